// Mean loss backward: dlosses = dloss / count on counted tokens, 0 where the target is -100
// (count from the forward's loss[1], so nothing is read back to the CPU). Overwrites dlosses.
// Matches meanBackward() in src/lib/ops/crossentropy/reference.ts.

struct Params {
  N: u32,     // B*T tokens
  dloss: f32, // d(objective)/d(mean loss): 1, or 1/steps when accumulating micro-batches
}

override WG: u32 = 256;

@group(0) @binding(0) var<storage, read_write> dlosses: array<f32>; // (B,T)
@group(0) @binding(1) var<storage, read> targets: array<i32>;       // (B,T), -100 = no loss
@group(0) @binding(2) var<storage, read> loss: array<f32>;          // (2) mean loss, count
@group(0) @binding(3) var<uniform> p: Params;

const IGNORE_INDEX = -100;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.N) { return; }
  // a counted token implies count >= 1, so the division is safe where it is used
  dlosses[i] = select(p.dloss / loss[1], 0.0, targets[i] == IGNORE_INDEX);
}

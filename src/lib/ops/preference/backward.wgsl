// Preference loss backward: dsums = dloss · (grad / pairs + [ORPO, chosen row of a pair that counts] /
// chosen tokens), overwriting dsums (2P). grad, pairs and tokens come from the forward (stats[8],
// stats[9]), so nothing is read back to the CPU. Matches backward() in src/lib/ops/preference/reference.ts.

struct Params {
  P: u32,     // pairs
  orpo: u32,  // 1: add ORPO's NLL term on the chosen rows
  dloss: f32, // d(objective)/d(loss): 1, or 1/steps when accumulating micro-batches
}

override WG: u32 = 256;

@group(0) @binding(0) var<storage, read_write> dsums: array<f32>; // (2P)
@group(0) @binding(1) var<storage, read> grad: array<f32>;        // (2P) from the forward
@group(0) @binding(2) var<storage, read> counts: array<f32>;      // (2P)
@group(0) @binding(3) var<storage, read> stats: array<f32>;       // (10) from the forward
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= 2u * p.P) { return; }
  let pairs = stats[8];
  let tokens = stats[9];
  let c = i & ~1u; // the pair's chosen row
  let real = counts[c] > 0.0 && counts[c + 1u] > 0.0;
  // a real pair implies pairs >= 1 and tokens >= 1, so the divisions are safe where they are used
  let nll = select(0.0, 1.0 / tokens, p.orpo == 1u && i == c && real);
  dsums[i] = select(0.0, p.dloss * (grad[i] / pairs + nll), real);
}

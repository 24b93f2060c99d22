// Mean loss over counted tokens, in one workgroup (a deterministic order of summation):
//   loss = [Σ losses / count, count], count = number of targets != -100; [0, 0] when nothing counts.
// A training step reads back only loss[0]. Matches meanForward() in src/lib/ops/crossentropy/reference.ts.

struct Params {
  N: u32, // B*T tokens
}

override WG: u32 = 256; // a power of two: the tree reduction halves it

@group(0) @binding(0) var<storage, read_write> loss: array<f32>; // (2) mean loss, count
@group(0) @binding(1) var<storage, read> losses: array<f32>;     // (B,T)
@group(0) @binding(2) var<storage, read> targets: array<i32>;    // (B,T), -100 = no loss
@group(0) @binding(3) var<uniform> p: Params;

const IGNORE_INDEX = -100;

var<workgroup> partial: array<vec2f, WG>; // (sum, count); counts are exact in f32 up to 2^24

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = vec2f(0.0);
  for (var i = lid; i < p.N; i += WG) {
    if (targets[i] != IGNORE_INDEX) { acc += vec2f(losses[i], 1.0); }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let total = partial[0];
    loss[0] = select(0.0, total.x / total.y, total.y > 0.0);
    loss[1] = total.y;
  }
}

// Matmul backward, bias part: dbias[n] = Σ_m dout[m,n] (+ dbias[n] when beta = 1).
// Matches backward() in src/lib/ops/matmul/reference.ts. (dinp and dweight are GEMMs: forward.wgsl.)
//
// A workgroup owns WG_X columns; its WG_Y rows of invocations each sum a strided set of rows, then
// a fixed-order tree in workgroup memory adds the WG_Y partial sums (deterministic, no atomics).

struct Params {
  M: u32,    // B*T
  N: u32,    // OC
  beta: f32, // 0: overwrite dbias; 1: accumulate
}

override WG_X: u32 = 32;
override WG_Y: u32 = 8; // a power of two

@group(0) @binding(0) var<storage, read_write> dbias: array<f32>; // (OC)
@group(0) @binding(1) var<storage, read> dout: array<f32>;        // (B*T, OC)
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> partial: array<f32, WG_X * WG_Y>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let n = wid.x * WG_X + lid.x;
  var s = 0.0;
  if (n < p.N) {
    for (var m = lid.y; m < p.M; m += WG_Y) { s += dout[m * p.N + n]; }
  }
  partial[lid.y * WG_X + lid.x] = s;
  workgroupBarrier();
  for (var stride = WG_Y / 2u; stride > 0u; stride /= 2u) {
    if (lid.y < stride) { partial[lid.y * WG_X + lid.x] += partial[(lid.y + stride) * WG_X + lid.x]; }
    workgroupBarrier();
  }
  if (lid.y == 0u && n < p.N) {
    var v = partial[lid.x];
    if (p.beta != 0.0) { v += p.beta * dbias[n]; }
    dbias[n] = v;
  }
}

// Norm backward to weight and bias: dweight_i (+)= Σ_rows norm_i·dout_i, dbias_i (+)= Σ_rows dout_i
// (LayerNorm only), norm = (x - mean)·rstd with mean = 0 for RMSNorm. One invocation owns one channel
// and loops over the B*T rows in order: deterministic, no atomics. Matches dweight, dbias of
// backward() in src/lib/ops/norm/reference.ts.

struct Params {
  N: u32, // B*T rows
  C: u32, // channels
}

override WG: u32 = 64;
override LAYERNORM: bool = true; // false: RMSNorm (dbias and mean are bound but never touched)
override ACCUMULATE: bool = true; // parameter gradients accumulate across micro-batches

@group(0) @binding(0) var<storage, read_write> dweight: array<f32>; // (C)
@group(0) @binding(1) var<storage, read_write> dbias: array<f32>;   // (C) LayerNorm only
@group(0) @binding(2) var<storage, read> dout: array<f32>;          // (B,T,C)
@group(0) @binding(3) var<storage, read> inp: array<f32>;           // (B,T,C)
@group(0) @binding(4) var<storage, read> mean: array<f32>;          // (B,T) LayerNorm only
@group(0) @binding(5) var<storage, read> rstd: array<f32>;          // (B,T)
@group(0) @binding(6) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= p.C) { return; }
  var dw = 0.0;
  var db = 0.0;
  for (var row = 0u; row < p.N; row++) {
    // neighbouring invocations read neighbouring channels of the same row
    let d = dout[row * p.C + i];
    var m = 0.0;
    if (LAYERNORM) { m = mean[row]; }
    dw += (inp[row * p.C + i] - m) * rstd[row] * d;
    db += d;
  }
  if (ACCUMULATE) {
    dweight[i] += dw;
    if (LAYERNORM) { dbias[i] += db; }
  } else {
    dweight[i] = dw;
    if (LAYERNORM) { dbias[i] = db; }
  }
}

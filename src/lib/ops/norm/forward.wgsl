// Norm forward, one workgroup per row: LayerNorm (GPT-2) out = (inp - mean)·rstd·weight + bias with
// rstd = 1/sqrt(var + eps), or RMSNorm (Llama) out = inp·rstd·weight with rstd = 1/sqrt(mean(inp²) + eps),
// i.e. LayerNorm without the mean and the bias. Matches forward() in src/lib/ops/norm/reference.ts.

struct Params {
  N: u32,   // B*T rows
  C: u32,   // channels
  eps: f32, // config.layer_norm_epsilon / rms_norm_eps
}

override WG: u32 = 128; // a power of two: the tree reduction halves it
override LAYERNORM: bool = true; // false: RMSNorm (mean and bias are bound but never touched)

@group(0) @binding(0) var<storage, read_write> out: array<f32>;  // (B,T,C)
@group(0) @binding(1) var<storage, read_write> mean: array<f32>; // (B,T) LayerNorm only
@group(0) @binding(2) var<storage, read_write> rstd: array<f32>; // (B,T) saved for the backward pass
@group(0) @binding(3) var<storage, read> inp: array<f32>;        // (B,T,C)
@group(0) @binding(4) var<storage, read> weight: array<f32>;     // (C)
@group(0) @binding(5) var<storage, read> bias: array<f32>;       // (C) LayerNorm only
@group(0) @binding(6) var<uniform> p: Params;

var<workgroup> partial: array<f32, WG>;

// Sum of v over the workgroup, returned to every invocation.
fn workgroup_sum(lid: u32, v: f32) -> f32 {
  partial[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier(); // partial is reused by the next call
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x; // grid1d(N, 1) folds many rows into y
  if (row >= p.N) { return; }
  let x = row * p.C;

  var m = 0.0;
  if (LAYERNORM) {
    var s = 0.0;
    for (var i = lid; i < p.C; i += WG) { s += inp[x + i]; }
    m = workgroup_sum(lid, s) / f32(p.C);
  }

  // two passes (mean, then squared deviations) as llm.c: no E[x²]-E[x]² cancellation
  var v = 0.0;
  for (var i = lid; i < p.C; i += WG) {
    let d = inp[x + i] - m;
    v += d * d;
  }
  let r = inverseSqrt(workgroup_sum(lid, v) / f32(p.C) + p.eps);

  for (var i = lid; i < p.C; i += WG) {
    var y = (inp[x + i] - m) * r * weight[i];
    if (LAYERNORM) { y += bias[i]; }
    out[x + i] = y;
  }
  if (lid == 0u) {
    if (LAYERNORM) { mean[row] = m; }
    rstd[row] = r;
  }
}

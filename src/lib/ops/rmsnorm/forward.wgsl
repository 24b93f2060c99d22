// RMSNorm forward: out = inp * rstd * weight, rstd = 1/sqrt(mean(inp²) + eps), one workgroup per row.
// Matches forward() in src/lib/ops/rmsnorm/reference.ts (and Hugging Face's LlamaRMSNorm).

struct Params {
  N: u32,   // B*T rows
  C: u32,   // channels
  eps: f32, // config.rms_norm_eps
}

override WG: u32 = 128; // a power of two: the tree reduction halves it

@group(0) @binding(0) var<storage, read_write> out: array<f32>;  // (B,T,C)
@group(0) @binding(1) var<storage, read_write> rstd: array<f32>; // (B,T) saved for the backward pass
@group(0) @binding(2) var<storage, read> inp: array<f32>;        // (B,T,C)
@group(0) @binding(3) var<storage, read> weight: array<f32>;     // (C)
@group(0) @binding(4) var<uniform> p: Params;

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

  var ss = 0.0;
  for (var i = lid; i < p.C; i += WG) {
    let v = inp[x + i];
    ss += v * v;
  }
  let r = inverseSqrt(workgroup_sum(lid, ss) / f32(p.C) + p.eps);

  for (var i = lid; i < p.C; i += WG) {
    out[x + i] = inp[x + i] * r * weight[i];
  }
  if (lid == 0u) { rstd[row] = r; }
}

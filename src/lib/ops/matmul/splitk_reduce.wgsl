// Matmul split-K, second pass: out = alpha·Σ_s partial[s] + bias + beta·out, summing the S
// slices in order s = 0..S-1 (deterministic). Matches gemm() in src/lib/ops/matmul/reference.ts.

struct Params {
  M: u32,
  N: u32,
  S: u32,        // split-K slices
  has_bias: u32,
  alpha: f32,
  beta: f32,
}

override WG: u32 = 256;

@group(0) @binding(0) var<storage, read_write> out: array<f32>;   // (M,N)
@group(0) @binding(1) var<storage, read> partial: array<f32>;     // (S,M,N)
@group(0) @binding(2) var<storage, read> bias: array<f32>;        // (N)
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  let MN = p.M * p.N;
  if (i >= MN) { return; }
  var s = 0.0;
  for (var z = 0u; z < p.S; z++) { s += partial[z * MN + i]; }
  var v = p.alpha * s;
  if (p.has_bias != 0u) { v += bias[i % p.N]; }
  if (p.beta != 0.0) { v += p.beta * out[i]; }
  out[i] = v;
}

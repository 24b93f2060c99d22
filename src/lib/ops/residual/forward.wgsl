// Residual forward: out = inp1 + inp2, elementwise over N = B*T*C values.
// Matches forward() in src/lib/ops/residual/reference.ts.

struct Params {
  N: u32, // B*T*C
}

override WG: u32 = 256;

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (B,T,C)
@group(0) @binding(1) var<storage, read> inp1: array<f32>;      // (B,T,C)
@group(0) @binding(2) var<storage, read> inp2: array<f32>;      // (B,T,C)
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid; // grid1d() folds large N into y
  if (i >= p.N) { return; }
  out[i] = inp1[i] + inp2[i];
}

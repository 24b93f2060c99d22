// SwiGLU forward (Llama/Qwen2 MLP): out = silu(gate)·up, silu(g) = g·sigmoid(g), elementwise.
// Matches forward() in src/lib/ops/swiglu/reference.ts.

struct Params {
  N: u32, // B*T*I (I = intermediate_size)
}

override WG: u32 = 256;

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (B,T,I)
@group(0) @binding(1) var<storage, read> gate: array<f32>;      // (B,T,I) gate_proj output
@group(0) @binding(2) var<storage, read> up: array<f32>;        // (B,T,I) up_proj output
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid; // grid1d() folds large N into y
  if (i >= p.N) { return; }
  let g = gate[i];
  // 1/(1+exp(-g)): exp overflows to +inf for g < -88 and the quotient is 0, the right limit
  out[i] = g / (1.0 + exp(-g)) * up[i];
}

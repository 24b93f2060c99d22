// SwiGLU backward: with s = sigmoid(gate), dgate (+)= dout·up·s·(1 + gate·(1-s)), dup (+)= dout·gate·s.
// Matches backward() in src/lib/ops/swiglu/reference.ts.

struct Params {
  N: u32, // B*T*I
}

override WG: u32 = 256;
override ACCUMULATE: bool = true; // false overwrites dgate and dup

@group(0) @binding(0) var<storage, read_write> dgate: array<f32>; // (B,T,I)
@group(0) @binding(1) var<storage, read_write> dup: array<f32>;   // (B,T,I)
@group(0) @binding(2) var<storage, read> dout: array<f32>;        // (B,T,I)
@group(0) @binding(3) var<storage, read> gate: array<f32>;        // (B,T,I)
@group(0) @binding(4) var<storage, read> up: array<f32>;          // (B,T,I)
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.N) { return; }
  let g = gate[i];
  let s = 1.0 / (1.0 + exp(-g));
  let d = dout[i];
  let dg = d * up[i] * s * (1.0 + g * (1.0 - s));
  let du = d * g * s;
  if (ACCUMULATE) {
    dgate[i] += dg;
    dup[i] += du;
  } else {
    dgate[i] = dg;
    dup[i] = du;
  }
}

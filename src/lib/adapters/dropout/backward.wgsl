// Dropout backward: dinp += dout · keep / (1 - p), keep recomputed from the same seed as the forward
// (see forward.wgsl). Matches dropoutMask() in dropout.ts.

struct Params {
  N: u32,
  seed: u32,
  p: f32,
}

override WG: u32 = 256;

@group(0) @binding(0) var<storage, read_write> dinp: array<f32>; // (B*T, in)
@group(0) @binding(1) var<storage, read> dout: array<f32>;       // (B*T, in)
@group(0) @binding(2) var<uniform> p: Params;

fn pcg(x: u32) -> u32 {
  let state = x * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.N) { return; }
  let u = f32(pcg(i ^ pcg(p.seed)) >> 8u) / 16777216.0;
  if (u >= p.p) { dinp[i] = dinp[i] + dout[i] / (1.0 - p.p); }
}

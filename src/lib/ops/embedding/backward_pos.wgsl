// Embedding backward, position part: dwpe[pos0 + t, :] += Σ_b dout[b,t,:] (learned positions).
// Matches backward() in src/lib/ops/embedding/reference.ts. One invocation owns one (t, c).

struct Params {
  B: u32,
  T: u32,
  C: u32,
  pos0: u32,
}

override WG: u32 = 256;

@group(0) @binding(0) var<storage, read_write> dwpe: array<f32>; // (maxT,C)
@group(0) @binding(1) var<storage, read> dout: array<f32>;       // (B,T,C)
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid; // t*C + c
  if (i >= p.T * p.C) { return; }
  var s = 0.0;
  for (var b = 0u; b < p.B; b++) { s += dout[b * p.T * p.C + i]; }
  dwpe[p.pos0 * p.C + i] += s;
}

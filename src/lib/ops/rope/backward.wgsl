// RoPE backward: the rotation is orthogonal, so dinp is dout turned back by the same angle
// (the transpose, i.e. sin negated). Matches backward() in src/lib/ops/rope/reference.ts.

struct Params {
  N: u32,      // B*T*NH*(HS/2) pairs
  NH: u32,     // heads (NH for q, NKV for k)
  HS: u32,     // head size (even)
  n_pos: u32,  // rows in the cos/sin table
  offset: i32, // added to every position, as in the forward pass
}

override WG: u32 = 256;
override ACCUMULATE: bool = true; // false overwrites dinp

@group(0) @binding(0) var<storage, read_write> dinp: array<f32>; // (B,T,NH,HS)
@group(0) @binding(1) var<storage, read> dout: array<f32>;       // (B,T,NH,HS)
@group(0) @binding(2) var<storage, read> positions: array<i32>;  // (B,T)
@group(0) @binding(3) var<storage, read> table: array<vec2f>;    // (n_pos, HS/2) of (cos, sin)
@group(0) @binding(4) var<uniform> p: Params;

// A quiet NaN. Through a var: WGSL rejects NaN in constant expressions.
fn nan() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let k = (wid.y * nwg.x + wid.x) * WG + lid;
  if (k >= p.N) { return; }
  let h = p.HS / 2u;
  let i = k % h;
  let bth = k / h;
  let bt = bth / p.NH;
  let base = bth * p.HS;
  let pos = positions[bt] + p.offset;
  var d1: f32;
  var d2: f32;
  if (pos < 0 || u32(pos) >= p.n_pos) {
    d1 = nan();
    d2 = d1;
  } else {
    let cs = table[u32(pos) * h + i];
    let g1 = dout[base + i];
    let g2 = dout[base + i + h];
    d1 = g1 * cs.x + g2 * cs.y;
    d2 = g2 * cs.x - g1 * cs.y;
  }
  if (ACCUMULATE) {
    dinp[base + i] += d1;
    dinp[base + i + h] += d2;
  } else {
    dinp[base + i] = d1;
    dinp[base + i + h] = d2;
  }
}

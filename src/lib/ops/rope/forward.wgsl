// RoPE forward in Hugging Face's rotate-half convention: for each head and i < HS/2, the pair
// (x[i], x[i+HS/2]) turns by the angle of the token's position. Matches forward() in reference.ts.

struct Params {
  N: u32,      // B*T*NH*(HS/2) pairs
  NH: u32,     // heads (NH for q, NKV for k)
  HS: u32,     // head size (even)
  n_pos: u32,  // rows in the cos/sin table
  offset: i32, // added to every position (prefix tuning: P; decoding with a cache: its length)
}

override WG: u32 = 256;

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (B,T,NH,HS)
@group(0) @binding(1) var<storage, read> inp: array<f32>;       // (B,T,NH,HS)
@group(0) @binding(2) var<storage, read> positions: array<i32>; // (B,T)
@group(0) @binding(3) var<storage, read> table: array<vec2f>;   // (n_pos, HS/2) of (cos, sin), ropeTable()
@group(0) @binding(4) var<uniform> p: Params;

// A quiet NaN. Through a var: WGSL rejects NaN in constant expressions.
fn nan() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let k = (wid.y * nwg.x + wid.x) * WG + lid; // grid1d() folds large N into y
  if (k >= p.N) { return; }
  let h = p.HS / 2u;
  let i = k % h;
  let bth = k / h; // (b*T + t)*NH + head
  let bt = bth / p.NH;
  let base = bth * p.HS;
  let pos = positions[bt] + p.offset;
  if (pos < 0 || u32(pos) >= p.n_pos) {
    // a position past the table is a bug upstream: make it loud rather than wrap around
    out[base + i] = nan();
    out[base + i + h] = nan();
    return;
  }
  let cs = table[u32(pos) * h + i];
  let x1 = inp[base + i];
  let x2 = inp[base + i + h];
  out[base + i] = x1 * cs.x - x2 * cs.y;     // x·cos + rotate_half(x)·sin, first half
  out[base + i + h] = x2 * cs.x + x1 * cs.y; // second half
}

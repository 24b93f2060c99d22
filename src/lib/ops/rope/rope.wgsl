// RoPE in Hugging Face's rotate-half convention: for each head and i < HS/2, the pair
// (x[i], x[i+HS/2]) turns by the angle of the token's position. Matches forward() in reference.ts.
//
// One kernel for both passes: the rotation is orthogonal, so the backward turns dout back by the same
// angle (its transpose: sin negated, INVERSE) into dinp, accumulating (ACCUMULATE). Matches backward().

struct Params {
  N: u32,      // B*T*NH*(HS/2) pairs
  NH: u32,     // heads (NH for q, NKV for k)
  HS: u32,     // head size (even)
  n_pos: u32,  // rows in the cos/sin table
  offset: i32, // added to every position (prefix tuning: P; decoding with a cache: its length)
}

override WG: u32 = 256;
override INVERSE: bool = false;    // backward: turn back
override ACCUMULATE: bool = false; // backward: add into dinp instead of overwriting it

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (B,T,NH,HS) out, or dinp
@group(0) @binding(1) var<storage, read> inp: array<f32>;       // (B,T,NH,HS) inp, or dout
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
  var y1: f32;
  var y2: f32;
  if (pos < 0 || u32(pos) >= p.n_pos) {
    // a position past the table is a bug upstream: make it loud rather than wrap around
    y1 = nan();
    y2 = y1;
  } else {
    let cs = table[u32(pos) * h + i];
    let sn = select(cs.y, -cs.y, INVERSE);
    let x1 = inp[base + i];
    let x2 = inp[base + i + h];
    y1 = x1 * cs.x - x2 * sn; // x·cos + rotate_half(x)·sin, first half
    y2 = x2 * cs.x + x1 * sn; // second half
  }
  if (ACCUMULATE) {
    out[base + i] += y1;
    out[base + i + h] += y2;
  } else {
    out[base + i] = y1;
    out[base + i + h] = y2;
  }
}

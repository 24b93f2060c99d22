// Attention backward, prefix only: dpkv[p] (+)= sum over b of the per-batch-row partials that
// backward_dkv.wgsl wrote for the prefix keys and values, summed in batch order (deterministic).
// Matches dpk/dpv of backward() in reference.ts.

struct Params {
  B: u32,
  P: u32,
  NKV: u32,
  HS: u32,
  offset: u32, // element offset of prefix row 0's key gradient in dpkv; its value gradient follows NKV*HS later
  stride: u32, // elements between prefix rows of dpkv
}

override WG: u32 = 64;
// Parameter gradients accumulate (llm.c: zeroed once per step, every micro-batch adds into them).
override ACCUMULATE: bool = true;

@group(0) @binding(0) var<storage, read_write> dpkv: array<f32>; // (P, ...) rows of [dkey (NKV,HS), dvalue (NKV,HS)]
@group(0) @binding(1) var<storage, read> dpk: array<f32>;        // (B,P,NKV,HS) partials
@group(0) @binding(2) var<storage, read> dpv: array<f32>;        // (B,P,NKV,HS) partials
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let e = (wid.y * nwg.x + wid.x) * WG + lid; // over (P, 2, NKV, HS)
  let row = p.NKV * p.HS;
  if (e >= p.P * 2u * row) { return; }
  let pp = e / (2u * row);
  let which = (e / row) % 2u; // 0: key, 1: value
  let r = e % row;
  var s = 0.0;
  for (var b = 0u; b < p.B; b++) {
    let a = (b * p.P + pp) * row + r;
    if (which == 0u) { s += dpk[a]; } else { s += dpv[a]; }
  }
  let dst = p.offset + pp * p.stride + which * row + r;
  if (ACCUMULATE) {
    dpkv[dst] += s;
  } else {
    dpkv[dst] = s;
  }
}

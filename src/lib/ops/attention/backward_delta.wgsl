// Attention backward, pass 1 of 3: delta[b,h,t] = sum_d dout[b,t,h,d] * out[b,t,h,d], which equals
// sum_j p_j dp_j of backward() in reference.ts (the softmax backward's row term), used by both later passes.

struct Params {
  B: u32,
  T: u32,
  NH: u32,
  HS: u32,
}

override WG: u32 = 64;

@group(0) @binding(0) var<storage, read_write> delta: array<f32>; // (B,NH,T)
@group(0) @binding(1) var<storage, read> dout: array<f32>;        // (B,T,NH,HS)
@group(0) @binding(2) var<storage, read> out: array<f32>;         // (B,T,NH,HS)
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let row = (wid.y * nwg.x + wid.x) * WG + lid; // (b*T + t)*NH + h; grid1d() folds large counts into y
  if (row >= p.B * p.T * p.NH) { return; }
  var s = 0.0;
  for (var d = 0u; d < p.HS; d++) { s += dout[row * p.HS + d] * out[row * p.HS + d]; }
  let h = row % p.NH;
  let bt = row / p.NH;
  let b = bt / p.T;
  let t = bt % p.T;
  delta[(b * p.NH + h) * p.T + t] = s;
}

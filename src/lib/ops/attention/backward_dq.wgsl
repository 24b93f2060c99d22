// Attention backward, pass 2 of 3: dq (+)= scale * sum_j ds_j key_j with ds_j = p_j (dout·value_j - delta),
// p_j = exp(scale q·key_j - lse) recomputed from the saved lse. Matches dq of backward() in reference.ts.
//
// Same tiling as forward.wgsl: BQ query rows of one (b, h) per workgroup, LANES invocations per row,
// loop over key tiles [prefix | causal tokens]. Each invocation owns dq[b,t,h,d] for its columns
// d = lane + c*LANES, so the result is written once, with no atomics.

struct Params {
  B: u32,
  T: u32,
  NH: u32,
  NKV: u32,
  HS: u32,
  P: u32,
  past: u32,       // 0 in training (kept so the layout matches forward.wgsl)
  kvT: u32,        // time extent of k/v (T in training)
  pkv_offset: u32, // element offset of prefix row 0's key in pkv; its value follows NKV*HS later
  pkv_stride: u32, // elements between prefix rows of pkv
  scale: f32,      // 1/sqrt(HS)
}

override BQ: u32 = 16;
override BK: u32 = 8;
override LANES: u32 = 4;
override MAX_HS: u32 = 64;
const MAX_COLS: u32 = 32; // HS / LANES <= MAX_COLS
// Gradients accumulate by default (llm.c: zeroed once per step, every path adds into them).
override ACCUMULATE: bool = true;

@group(0) @binding(0) var<storage, read_write> dq: array<f32>; // (B,T,NH,HS)
@group(0) @binding(1) var<storage, read> dout: array<f32>;     // (B,T,NH,HS)
@group(0) @binding(2) var<storage, read> q: array<f32>;        // (B,T,NH,HS)
@group(0) @binding(3) var<storage, read> k: array<f32>;        // (B,kvT,NKV,HS)
@group(0) @binding(4) var<storage, read> v: array<f32>;        // (B,kvT,NKV,HS)
@group(0) @binding(5) var<storage, read> pkv: array<f32>;      // (P, ...) rows of [key (NKV,HS), value (NKV,HS)]
@group(0) @binding(6) var<storage, read> lse: array<f32>;      // (B,NH,T)
@group(0) @binding(7) var<storage, read> delta: array<f32>;    // (B,NH,T)
@group(0) @binding(8) var<uniform> p: Params;

var<workgroup> qs: array<f32, BQ * (MAX_HS + 1)>;  // (BQ,HS) queries
var<workgroup> dos: array<f32, BQ * (MAX_HS + 1)>; // (BQ,HS) dout rows
var<workgroup> ks: array<f32, BK * (MAX_HS + 1)>;  // (BK,HS) key tile
var<workgroup> vs: array<f32, BK * (MAX_HS + 1)>;  // (BK,HS) value tile
var<workgroup> dss: array<f32, BQ * BK>;           // (BQ,BK) ds, 0 where masked

@compute @workgroup_size(BQ * LANES)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let HS = p.HS;
  let b = wid.z;
  let h = wid.y;
  let g = h / (p.NH / p.NKV);
  let t0 = wid.x * BQ;
  let i = lid / LANES;
  let lane = lid % LANES;
  let t = t0 + i;
  let valid = t < p.T;

  for (var e = lid; e < BQ * HS; e += BQ * LANES) {
    let r = e / HS;
    let d = e % HS;
    var x = 0.0;
    var y = 0.0;
    if (t0 + r < p.T) {
      let a = ((b * p.T + t0 + r) * p.NH + h) * HS + d;
      x = q[a];
      y = dout[a];
    }
    qs[r * (HS + 1) + d] = x;
    dos[r * (HS + 1) + d] = y;
  }
  var lse_i = 0.0;
  var delta_i = 0.0;
  if (valid) {
    lse_i = lse[(b * p.NH + h) * p.T + t];
    delta_i = delta[(b * p.NH + h) * p.T + t];
  }

  let nkeys = p.P + p.past + min(t0 + BQ, p.T);
  let visible = p.P + p.past + t + 1;
  let ncols = HS / LANES;
  var acc: array<f32, MAX_COLS>;

  for (var j0 = 0u; j0 < nkeys; j0 += BK) {
    workgroupBarrier();
    for (var e = lid; e < BK * HS; e += BQ * LANES) {
      let r = e / HS;
      let d = e % HS;
      let j = j0 + r;
      var kx = 0.0;
      var vx = 0.0;
      if (j < p.P) {
        let a = p.pkv_offset + j * p.pkv_stride + g * HS + d;
        kx = pkv[a];
        vx = pkv[a + p.NKV * HS];
      } else if (j < nkeys) {
        let a = ((b * p.kvT + j - p.P) * p.NKV + g) * HS + d;
        kx = k[a];
        vx = v[a];
      }
      ks[r * (HS + 1) + d] = kx;
      vs[r * (HS + 1) + d] = vx;
    }
    workgroupBarrier();

    for (var jj = lane; jj < BK; jj += LANES) {
      var ds = 0.0;
      if (valid && j0 + jj < visible) {
        var s = 0.0;
        var dp = 0.0;
        for (var d = 0u; d < HS; d++) {
          s += qs[i * (HS + 1) + d] * ks[jj * (HS + 1) + d];
          dp += dos[i * (HS + 1) + d] * vs[jj * (HS + 1) + d];
        }
        ds = exp(s * p.scale - lse_i) * (dp - delta_i);
      }
      dss[i * BK + jj] = ds;
    }
    workgroupBarrier();

    for (var jj = 0u; jj < BK; jj++) {
      let w = dss[i * BK + jj];
      for (var c = 0u; c < ncols; c++) { acc[c] += w * ks[jj * (HS + 1) + lane + c * LANES]; }
    }
  }

  if (valid) {
    let base = ((b * p.T + t) * p.NH + h) * HS;
    for (var c = 0u; c < ncols; c++) {
      let a = base + lane + c * LANES;
      if (ACCUMULATE) { dq[a] += acc[c] * p.scale; } else { dq[a] = acc[c] * p.scale; }
    }
  }
}

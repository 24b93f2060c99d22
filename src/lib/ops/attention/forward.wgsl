// Causal self-attention forward, flash-attention style: one pass over key tiles with an online softmax,
// also saving lse = max + log(sum exp) per query row for the backward. Matches forward() in reference.ts.
//
// Query t (absolute position past + t) of head h sees, through kv head g = h / (NH/NKV):
//   key positions j = 0..P-1     the prefix keys/values (pkv), shared by every batch row
//   key positions j = P + s      token s of k/v, for s = 0..past + t (causal)
// Training uses past = 0 and kvT = T; KV-cache decoding uses the cache's (B,maxT,NKV,HS) buffers with
// kvT = maxT, and past = the number of tokens cached before these T queries.
//
// Workgroup: BQ query rows of one (b, h), LANES invocations per row. Per key tile of BK keys:
//   load K,V tile -> scores s[i][j] (invocation (i,lane) computes j = lane, lane+LANES, ...)
//   -> every lane of row i reads the whole score row, updates its running max m and sum l, and
//   accumulates o[i][d] for its own columns d = lane + c*LANES.

struct Params {
  B: u32,
  T: u32,          // query rows in q and out
  NH: u32,
  NKV: u32,
  HS: u32,
  P: u32,          // prefix positions (0: none; pkv is then never read)
  past: u32,       // tokens before the first query (0 in training)
  kvT: u32,        // time extent of the k/v buffers (T in training, maxT for a KV cache)
  pkv_offset: u32, // element offset of prefix row 0's key in pkv; its value follows NKV*HS later
  pkv_stride: u32, // elements between prefix rows of pkv
  scale: f32,      // 1/sqrt(HS)
}

override BQ: u32 = 16;     // query rows per workgroup
override BK: u32 = 16;     // keys per shared-memory tile
override LANES: u32 = 4;   // invocations per query row; HS must be a multiple of LANES
override MAX_HS: u32 = 64; // capacity of the shared tiles along the head dimension (HS <= MAX_HS)
const MAX_COLS: u32 = 32;  // private accumulator length: HS / LANES <= MAX_COLS
// A finite "minus infinity": exp(NEG - m) is 0 for any real m, and NEG - NEG is 0, not NaN.
const NEG: f32 = -3.0e38;

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (B,T,NH,HS)
@group(0) @binding(1) var<storage, read_write> lse: array<f32>; // (B,NH,T)
@group(0) @binding(2) var<storage, read> q: array<f32>;         // (B,T,NH,HS)
@group(0) @binding(3) var<storage, read> k: array<f32>;         // (B,kvT,NKV,HS)
@group(0) @binding(4) var<storage, read> v: array<f32>;         // (B,kvT,NKV,HS)
@group(0) @binding(5) var<storage, read> pkv: array<f32>;       // (P, ...) rows of [key (NKV,HS), value (NKV,HS)]
@group(0) @binding(6) var<uniform> p: Params;

// Rows padded to HS+1 floats: the invocations of a row read different key rows at the same d.
var<workgroup> qs: array<f32, BQ * (MAX_HS + 1)>; // (BQ,HS) query tile
var<workgroup> ks: array<f32, BK * (MAX_HS + 1)>; // (BK,HS) key tile
var<workgroup> vs: array<f32, BK * MAX_HS>;       // (BK,HS) value tile
var<workgroup> ss: array<f32, BQ * BK>;           // (BQ,BK) scaled scores, NEG where masked

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
    if (t0 + r < p.T) { x = q[((b * p.T + t0 + r) * p.NH + h) * HS + d]; }
    qs[r * (HS + 1) + d] = x;
  }

  // Keys the last row of this tile sees; tiles beyond it are fully masked for every row.
  let nkeys = p.P + p.past + min(t0 + BQ, p.T);
  let visible = p.P + p.past + t + 1; // this row's keys: 0..visible-1
  let ncols = HS / LANES;
  var m = NEG;
  var l = 0.0;
  var o: array<f32, MAX_COLS>;

  for (var j0 = 0u; j0 < nkeys; j0 += BK) {
    workgroupBarrier(); // the previous tile is consumed (and qs is written, on the first pass)
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
      vs[r * HS + d] = vx;
    }
    workgroupBarrier();

    for (var jj = lane; jj < BK; jj += LANES) {
      var s = NEG;
      if (j0 + jj < visible) {
        var dot = 0.0;
        for (var d = 0u; d < HS; d++) { dot += qs[i * (HS + 1) + d] * ks[jj * (HS + 1) + d]; }
        s = dot * p.scale;
      }
      ss[i * BK + jj] = s;
    }
    workgroupBarrier();

    // Online softmax: rescale what was accumulated under the old max.
    var mt = m;
    for (var jj = 0u; jj < BK; jj++) { mt = max(mt, ss[i * BK + jj]); }
    let corr = exp(m - mt);
    l *= corr;
    for (var c = 0u; c < ncols; c++) { o[c] *= corr; }
    for (var jj = 0u; jj < BK; jj++) {
      let pj = exp(ss[i * BK + jj] - mt);
      l += pj;
      for (var c = 0u; c < ncols; c++) { o[c] += pj * vs[jj * HS + lane + c * LANES]; }
    }
    m = mt;
  }

  if (valid) {
    let base = ((b * p.T + t) * p.NH + h) * HS;
    for (var c = 0u; c < ncols; c++) { out[base + lane + c * LANES] = o[c] / l; }
    if (lane == 0u) { lse[(b * p.NH + h) * p.T + t] = m + log(l); }
  }
}

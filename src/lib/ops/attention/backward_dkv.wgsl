// Attention backward, pass 3 of 3: for a set of key rows, dvalue_j (+)= sum_{h,t} p dout and
// dkey_j = scale * sum_{h,t} ds q over every query head h of the kv group and every query t that sees
// key j. Matches dk/dv (and, per batch row, dpk/dpv) of backward() in reference.ts.
//
// Run once for the token keys (causal: query t sees key s <= t; outputs dk, dv) and, with a prefix,
// once more for the prefix keys (every query sees them; outputs per-batch partials that
// backward_prefix_reduce.wgsl sums in order). Workgroup: BK key rows of one (b, g), LANES invocations
// per key row, looping over query tiles of BQ rows; each invocation owns its rows' columns
// d = lane + c*LANES of dk and dv, so there are no atomics.

struct Params {
  B: u32,
  T: u32,
  NH: u32,
  NKV: u32,
  HS: u32,
  nkeys: u32,    // key rows per batch row: T for tokens, P for the prefix
  k_offset: u32, // element (b, j, g, d) of the keys is at k_offset + b*k_bstride + j*k_rstride + g*HS + d
  v_offset: u32, // ... and of the values at v_offset + b*k_bstride + j*k_rstride + g*HS + d
  k_bstride: u32,
  k_rstride: u32,
  causal: u32,   // 1: key j is seen by queries t >= j (tokens); 0: by every query (prefix)
  scale: f32,    // 1/sqrt(HS)
}

override BQ: u32 = 8;
override BK: u32 = 16;
override LANES: u32 = 4;
override MAX_HS: u32 = 64;
const MAX_COLS: u32 = 32; // HS / LANES <= MAX_COLS
// true for dk, dv (gradients add into what other paths left there); false for the prefix partials.
override ACCUMULATE: bool = true;

@group(0) @binding(0) var<storage, read_write> dk: array<f32>; // (B,nkeys,NKV,HS)
@group(0) @binding(1) var<storage, read_write> dv: array<f32>; // (B,nkeys,NKV,HS)
@group(0) @binding(2) var<storage, read> dout: array<f32>;     // (B,T,NH,HS)
@group(0) @binding(3) var<storage, read> q: array<f32>;        // (B,T,NH,HS)
@group(0) @binding(4) var<storage, read> k: array<f32>;        // keys, addressed as in Params
@group(0) @binding(5) var<storage, read> v: array<f32>;        // values, addressed as in Params
@group(0) @binding(6) var<storage, read> lse: array<f32>;      // (B,NH,T)
@group(0) @binding(7) var<storage, read> delta: array<f32>;    // (B,NH,T)
@group(0) @binding(8) var<uniform> p: Params;

var<workgroup> ks: array<f32, BK * (MAX_HS + 1)>;  // (BK,HS) this workgroup's keys
var<workgroup> vs: array<f32, BK * (MAX_HS + 1)>;  // (BK,HS) and values
var<workgroup> qs: array<f32, BQ * (MAX_HS + 1)>;  // (BQ,HS) query tile
var<workgroup> dos: array<f32, BQ * (MAX_HS + 1)>; // (BQ,HS) dout tile
var<workgroup> ps: array<f32, BK * BQ>;            // (BK,BQ) probabilities, 0 where masked
var<workgroup> dss: array<f32, BK * BQ>;           // (BK,BQ) ds, 0 where masked
var<workgroup> lse_s: array<f32, BQ>;
var<workgroup> delta_s: array<f32, BQ>;

@compute @workgroup_size(BK * LANES)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let HS = p.HS;
  let b = wid.z;
  let g = wid.y;
  let group = p.NH / p.NKV;
  let j0 = wid.x * BK;
  let jr = lid / LANES;
  let lane = lid % LANES;
  let j = j0 + jr;
  let validk = j < p.nkeys;

  for (var e = lid; e < BK * HS; e += BK * LANES) {
    let r = e / HS;
    let d = e % HS;
    var kx = 0.0;
    var vx = 0.0;
    if (j0 + r < p.nkeys) {
      let a = b * p.k_bstride + (j0 + r) * p.k_rstride + g * HS + d;
      kx = k[p.k_offset + a];
      vx = v[p.v_offset + a];
    }
    ks[r * (HS + 1) + d] = kx;
    vs[r * (HS + 1) + d] = vx;
  }

  // Causal: queries before j0 see none of these keys, so start at the tile holding query j0.
  var tq0 = 0u;
  if (p.causal != 0u) { tq0 = (j0 / BQ) * BQ; }
  let ncols = HS / LANES;
  var dk_acc: array<f32, MAX_COLS>;
  var dv_acc: array<f32, MAX_COLS>;

  for (var hh = 0u; hh < group; hh++) {
    let h = g * group + hh;
    for (var t0 = tq0; t0 < p.T; t0 += BQ) {
      workgroupBarrier();
      for (var e = lid; e < BQ * HS; e += BK * LANES) {
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
      if (lid < BQ) {
        var l = 0.0;
        var dl = 0.0;
        if (t0 + lid < p.T) {
          l = lse[(b * p.NH + h) * p.T + t0 + lid];
          dl = delta[(b * p.NH + h) * p.T + t0 + lid];
        }
        lse_s[lid] = l;
        delta_s[lid] = dl;
      }
      workgroupBarrier();

      for (var ii = lane; ii < BQ; ii += LANES) {
        let t = t0 + ii;
        var pij = 0.0;
        var ds = 0.0;
        if (validk && t < p.T && (p.causal == 0u || j <= t)) {
          var s = 0.0;
          var dp = 0.0;
          for (var d = 0u; d < HS; d++) {
            s += qs[ii * (HS + 1) + d] * ks[jr * (HS + 1) + d];
            dp += dos[ii * (HS + 1) + d] * vs[jr * (HS + 1) + d];
          }
          pij = exp(s * p.scale - lse_s[ii]);
          ds = pij * (dp - delta_s[ii]);
        }
        ps[jr * BQ + ii] = pij;
        dss[jr * BQ + ii] = ds;
      }
      workgroupBarrier();

      for (var ii = 0u; ii < BQ; ii++) {
        let pw = ps[jr * BQ + ii];
        let dw = dss[jr * BQ + ii];
        for (var c = 0u; c < ncols; c++) {
          let d = lane + c * LANES;
          dv_acc[c] += pw * dos[ii * (HS + 1) + d];
          dk_acc[c] += dw * qs[ii * (HS + 1) + d];
        }
      }
    }
  }

  if (validk) {
    let base = ((b * p.nkeys + j) * p.NKV + g) * HS;
    for (var c = 0u; c < ncols; c++) {
      let a = base + lane + c * LANES;
      if (ACCUMULATE) {
        dk[a] += dk_acc[c] * p.scale;
        dv[a] += dv_acc[c];
      } else {
        dk[a] = dk_acc[c] * p.scale;
        dv[a] = dv_acc[c];
      }
    }
  }
}

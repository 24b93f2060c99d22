// Matmul as a tiled GEMM: out = alpha·(A·B) + bias + beta·out, A (M,K), B (K,N), out (M,N).
// Matches gemm() in src/lib/ops/matmul/reference.ts; serves forward, dinp and dweight (matmul.ts).
//
// Each workgroup computes a BM×BN tile of out (BM = 8·WG_Y, BN = 8·WG_X), each invocation an 8×8
// block of it held in sixteen vec4 registers. A and B tiles are staged in workgroup memory BK deep,
// as vec4s of 4 consecutive rows (A) / columns (B), so the inner loop is 4 vec4 loads and 16 vec4
// FMAs per k. Out-of-range elements are loaded as zeros: the inner loop has no bounds checks.
// Split-K: workgroup z sums only k in [z·k_chunk, (z+1)·k_chunk) and writes its partial tile to
// slice z of out (S,M,N); splitk_reduce.wgsl adds the slices in order (deterministic, no atomics).
// B is read as raw u32 words: f32 bits, or (B_F16, frozen base weights stored in half precision) two
// packed halves per word, element i in word i>>1, even i in the low half, decoded to f32 at load.

struct Params {
  M: u32,
  N: u32,
  K: u32,
  k_chunk: u32,  // K per split-K slice (a multiple of BK); = K when not split
  has_bias: u32, // 1: add bias[n]
  alpha: f32,    // scales A·B (LoRA scaling)
  beta: f32,     // 0: overwrite out; 1: accumulate into out (gradients, LoRA added to a base output)
}

override WG_X: u32 = 8; // invocations along N
override WG_Y: u32 = 8; // invocations along M
override BK: u32 = 16;   // K-depth of a staged tile
override TRANS_A: bool = false; // A stored (K,M): A[m,k] = a[k*M + m]
override TRANS_B: bool = false; // B stored (N,K): B[k,n] = b[n*K + k] (a torch Linear weight)
override B_F16: bool = false;   // B stored as packed f16 (see above); the math stays f32
override BM: u32 = WG_Y * 8u;
override BN: u32 = WG_X * 8u;

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (M,N), or (S,M,N) partials
@group(0) @binding(1) var<storage, read> a: array<f32>;         // (M,K), or (K,M) if TRANS_A
@group(0) @binding(2) var<storage, read> b: array<u32>;         // (K,N), or (N,K) if TRANS_B; f32 bits or packed f16
@group(0) @binding(3) var<storage, read> bias: array<f32>;      // (N); any 1 value when has_bias = 0
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> As: array<vec4f, BK * BM / 4u>; // [k][m/4]: 4 consecutive rows of column k
var<workgroup> Bs: array<vec4f, BK * BN / 4u>; // [k][n/4]: 4 consecutive columns of row k

// A[m,k] and B[k,n], or 0 outside the matrix / this split-K slice: tiles are padded here, at load.
fn a_at(m: u32, k: u32, k_end: u32) -> f32 {
  if (m >= p.M || k >= k_end) { return 0.0; }
  if (TRANS_A) { return a[k * p.M + m]; }
  return a[m * p.K + k];
}

// Element i of B's storage as f32.
fn b_elem(i: u32) -> f32 {
  if (B_F16) { return unpack2x16float(b[i >> 1u])[i & 1u]; }
  return bitcast<f32>(b[i]);
}

fn b_at(k: u32, n: u32, k_end: u32) -> f32 {
  if (n >= p.N || k >= k_end) { return 0.0; }
  if (TRANS_B) { return b_elem(n * p.K + k); }
  return b_elem(k * p.N + n);
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  let k_begin = wid.z * p.k_chunk;
  let k_end = min(p.K, k_begin + p.k_chunk);

  // c{i}a, c{i}b hold out[m0 + 8·ty + i, n0 + 8·tx + 0..3] and [.., n0 + 8·tx + 4..7]
  var c0a = vec4f(0.0);
  var c0b = vec4f(0.0);
  var c1a = vec4f(0.0);
  var c1b = vec4f(0.0);
  var c2a = vec4f(0.0);
  var c2b = vec4f(0.0);
  var c3a = vec4f(0.0);
  var c3b = vec4f(0.0);
  var c4a = vec4f(0.0);
  var c4b = vec4f(0.0);
  var c5a = vec4f(0.0);
  var c5b = vec4f(0.0);
  var c6a = vec4f(0.0);
  var c6b = vec4f(0.0);
  var c7a = vec4f(0.0);
  var c7b = vec4f(0.0);
  for (var k0 = k_begin; k0 < k_end; k0 += BK) {
    // Stage A[m0.., k0..] and B[k0.., n0..], one vec4 (4 rows of A / 4 columns of B) per step;
    // consecutive invocations read consecutive addresses in whichever layout the operand has.
    for (var s = li; s < BK * BM / 4u; s += WG_X * WG_Y) {
      var mq: u32;
      var kk: u32;
      if (TRANS_A) { mq = s % (BM / 4u); kk = s / (BM / 4u); } else { kk = s % BK; mq = s / BK; }
      let m = m0 + 4u * mq;
      let k = k0 + kk;
      As[kk * (BM / 4u) + mq] = vec4f(a_at(m, k, k_end), a_at(m + 1u, k, k_end),
                                      a_at(m + 2u, k, k_end), a_at(m + 3u, k, k_end));
    }
    for (var s = li; s < BK * BN / 4u; s += WG_X * WG_Y) {
      var nq: u32;
      var kk: u32;
      if (TRANS_B) { kk = s % BK; nq = s / BK; } else { nq = s % (BN / 4u); kk = s / (BN / 4u); }
      let n = n0 + 4u * nq;
      let k = k0 + kk;
      Bs[kk * (BN / 4u) + nq] = vec4f(b_at(k, n, k_end), b_at(k, n + 1u, k_end),
                                      b_at(k, n + 2u, k_end), b_at(k, n + 3u, k_end));
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      // rows 8·ty .. 8·ty+7 of A's column k, columns 8·tx .. 8·tx+7 of B's row k
      let a0 = As[(kk * BM) / 4u + 2u * lid.y];
      let a1 = As[(kk * BM) / 4u + 2u * lid.y + 1u];
      let b0 = Bs[(kk * BN) / 4u + 2u * lid.x];
      let b1 = Bs[(kk * BN) / 4u + 2u * lid.x + 1u];
      c0a += a0.x * b0;
      c0b += a0.x * b1;
      c1a += a0.y * b0;
      c1b += a0.y * b1;
      c2a += a0.z * b0;
      c2b += a0.z * b1;
      c3a += a0.w * b0;
      c3b += a0.w * b1;
      c4a += a1.x * b0;
      c4b += a1.x * b1;
      c5a += a1.y * b0;
      c5b += a1.y * b1;
      c6a += a1.z * b0;
      c6b += a1.z * b1;
      c7a += a1.w * b0;
      c7b += a1.w * b1;
    }
    workgroupBarrier();
  }

  let slice = wid.z * p.M * p.N;
  let n = n0 + lid.x * 8u;
  let rows = array<vec4f, 16>(c0a, c0b, c1a, c1b, c2a, c2b, c3a, c3b, c4a, c4b, c5a, c5b, c6a, c6b, c7a, c7b);
  for (var i = 0u; i < 8u; i++) {
    let m = m0 + lid.y * 8u + i;
    if (m >= p.M) { break; }
    for (var j = 0u; j < 8u; j++) {
      if (n + j >= p.N) { break; }
      let o = slice + m * p.N + n + j;
      var v = p.alpha * rows[2u * i + j / 4u][j % 4u];
      if (p.has_bias != 0u) { v += bias[n + j]; }
      if (p.beta != 0.0) { v += p.beta * out[o]; }
      out[o] = v;
    }
  }
}

// Matmul as a tiled GEMM: out = alpha·(A·B) + bias + beta·out, A (M,K), B (K,N), out (M,N).
// Matches gemm() in src/lib/ops/matmul/reference.ts; serves forward, dinp and dweight (matmul.ts).
//
// Each workgroup computes a BM×BN tile of out, each invocation a TM×TN (4×4) block of it, strided
// by the workgroup size so that neighbouring invocations touch neighbouring memory. A and B tiles
// are staged in workgroup memory BK columns at a time; out-of-range elements are loaded as zeros,
// so the inner loop has no bounds checks. Split-K: workgroup z sums only k in
// [z·k_chunk, (z+1)·k_chunk) and writes its partial tile to slice z of out (S,M,N); the
// splitk_reduce pass adds the slices in order (deterministic, no atomics).

struct Params {
  M: u32,
  N: u32,
  K: u32,
  k_chunk: u32,  // K per split-K slice (a multiple of BK); = K when not split
  has_bias: u32, // 1: add bias[n]
  alpha: f32,    // scales A·B (LoRA scaling)
  beta: f32,     // 0: overwrite out; 1: accumulate into out (gradients, LoRA added to a base output)
}

override WG_X: u32 = 16; // invocations along N
override WG_Y: u32 = 16; // invocations along M
override BK: u32 = 16;   // K-depth of a staged tile
override TRANS_A: bool = false; // A stored (K,M): A[m,k] = a[k*M + m]
override TRANS_B: bool = false; // B stored (N,K): B[k,n] = b[n*K + k] (a torch Linear weight)
const TM = 4u;
const TN = 4u;
override BM: u32 = WG_Y * TM;
override BN: u32 = WG_X * TN;

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (M,N), or (S,M,N) partials
@group(0) @binding(1) var<storage, read> a: array<f32>;         // (M,K), or (K,M) if TRANS_A
@group(0) @binding(2) var<storage, read> b: array<f32>;         // (K,N), or (N,K) if TRANS_B
@group(0) @binding(3) var<storage, read> bias: array<f32>;      // (N); any 1 value when has_bias = 0
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> As: array<f32, BK * BM>; // [k][m]
var<workgroup> Bs: array<f32, BK * BN>; // [k][n]

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  let k_begin = wid.z * p.k_chunk;
  let k_end = min(p.K, k_begin + p.k_chunk);

  var acc: array<array<f32, TN>, TM>;
  for (var k0 = k_begin; k0 < k_end; k0 += BK) {
    // Stage A[m0.., k0..] and B[k0.., n0..]; consecutive invocations read consecutive addresses
    // in whichever layout the operand is stored.
    for (var i = li; i < BM * BK; i += WG_X * WG_Y) {
      var mm: u32;
      var kk: u32;
      if (TRANS_A) { mm = i % BM; kk = i / BM; } else { kk = i % BK; mm = i / BK; }
      let m = m0 + mm;
      let k = k0 + kk;
      var v = 0.0;
      if (m < p.M && k < k_end) {
        if (TRANS_A) { v = a[k * p.M + m]; } else { v = a[m * p.K + k]; }
      }
      As[kk * BM + mm] = v;
    }
    for (var i = li; i < BN * BK; i += WG_X * WG_Y) {
      var nn: u32;
      var kk: u32;
      if (TRANS_B) { kk = i % BK; nn = i / BK; } else { nn = i % BN; kk = i / BN; }
      let n = n0 + nn;
      let k = k0 + kk;
      var v = 0.0;
      if (n < p.N && k < k_end) {
        if (TRANS_B) { v = b[n * p.K + k]; } else { v = b[k * p.N + n]; }
      }
      Bs[kk * BN + nn] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var av: array<f32, TM>;
      var bv: array<f32, TN>;
      for (var i = 0u; i < TM; i++) { av[i] = As[kk * BM + lid.y + i * WG_Y]; }
      for (var j = 0u; j < TN; j++) { bv[j] = Bs[kk * BN + lid.x + j * WG_X]; }
      for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TN; j++) { acc[i][j] += av[i] * bv[j]; }
      }
    }
    workgroupBarrier();
  }

  let slice = wid.z * p.M * p.N;
  for (var i = 0u; i < TM; i++) {
    let m = m0 + lid.y + i * WG_Y;
    if (m >= p.M) { continue; }
    for (var j = 0u; j < TN; j++) {
      let n = n0 + lid.x + j * WG_X;
      if (n >= p.N) { continue; }
      let o = slice + m * p.N + n;
      var v = p.alpha * acc[i][j];
      if (p.has_bias != 0u) { v += bias[n]; }
      if (p.beta != 0.0) { v += p.beta * out[o]; }
      out[o] = v;
    }
  }
}

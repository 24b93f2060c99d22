// Matmul as a tiled GEMM: out = alpha·(A·B) + bias + beta·out, A (M,K), B (K,N), out (M,N).
// Matches gemm() in src/lib/ops/matmul/reference.ts; serves forward, dinp and dweight (matmul.ts).
//
// Each workgroup computes a BM×BN tile of out (BM = 4·WG_Y, BN = 4·WG_X), each invocation a 4×4
// block of it held in four vec4 registers. A and B tiles are staged in workgroup memory BK deep, as
// vec4s of 4 consecutive rows (A) / columns (B), so the inner loop is 2 vec4 loads and 4 vec4 FMAs
// per k. Out-of-range elements are loaded as zeros: the inner loop has no bounds checks.
// Split-K: workgroup z sums only k in [z·k_chunk, (z+1)·k_chunk) and writes its partial tile to
// slice z of out (S,M,N); splitk_reduce.wgsl adds the slices in order (deterministic, no atomics).

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
override BM: u32 = WG_Y * 4u;
override BN: u32 = WG_X * 4u;

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (M,N), or (S,M,N) partials
@group(0) @binding(1) var<storage, read> a: array<f32>;         // (M,K), or (K,M) if TRANS_A
@group(0) @binding(2) var<storage, read> b: array<f32>;         // (K,N), or (N,K) if TRANS_B
@group(0) @binding(3) var<storage, read> bias: array<f32>;      // (N); any 1 value when has_bias = 0
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> As: array<vec4f, BK * WG_Y>; // [k][m/4]: rows 4·ty .. 4·ty+3 of column k
var<workgroup> Bs: array<vec4f, BK * WG_X>; // [k][n/4]: columns 4·tx .. 4·tx+3 of row k

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  let k_begin = wid.z * p.k_chunk;
  let k_end = min(p.K, k_begin + p.k_chunk);

  // c_i holds out[m0 + 4·ty + i, n0 + 4·tx .. 4·tx+3]
  var c0 = vec4f(0.0);
  var c1 = vec4f(0.0);
  var c2 = vec4f(0.0);
  var c3 = vec4f(0.0);
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
      As[kk * WG_Y + mm / 4u][mm % 4u] = v;
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
      Bs[kk * WG_X + nn / 4u][nn % 4u] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let av = As[kk * WG_Y + lid.y];
      let bv = Bs[kk * WG_X + lid.x];
      c0 += av.x * bv;
      c1 += av.y * bv;
      c2 += av.z * bv;
      c3 += av.w * bv;
    }
    workgroupBarrier();
  }

  let slice = wid.z * p.M * p.N;
  let n = n0 + lid.x * 4u;
  let rows = array<vec4f, 4>(c0, c1, c2, c3);
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid.y * 4u + i;
    if (m >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (n + j >= p.N) { break; }
      let o = slice + m * p.N + n + j;
      var v = p.alpha * rows[i][j];
      if (p.has_bias != 0u) { v += bias[n + j]; }
      if (p.beta != 0.0) { v += p.beta * out[o]; }
      out[o] = v;
    }
  }
}

// CPU reference for matmul (float64, plain loops), torch Linear semantics:
// out (B·T, OC) = inp (B·T, C) · Wᵀ + bias, W stored (OC, C) — or (C, OC) for GPT-2's Conv1D
// (transposeWeight). Backward: dinp = dout · W, dweight = doutᵀ · inp, dbias = column sums of dout.

export interface GemmOptions {
  /** A stored (K,M) instead of (M,K). */
  transA?: boolean;
  /** B stored (N,K) instead of (K,N). */
  transB?: boolean;
  bias?: Float64Array | null;
  alpha?: number;
  beta?: number;
  /** Initial out, scaled by beta (defaults to zeros). */
  out?: Float64Array;
}

/** out (M,N) = alpha · A·B + bias + beta · out; A (M,K), B (K,N) in the given layouts. */
export function gemm(a: Float64Array, b: Float64Array, M: number, N: number, K: number, o: GemmOptions = {}): Float64Array {
  const alpha = o.alpha ?? 1;
  const beta = o.beta ?? 0;
  const out = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const av = o.transA ? a[k * M + m] : a[m * K + k];
        const bv = o.transB ? b[n * K + k] : b[k * N + n];
        s += av * bv;
      }
      let v = alpha * s;
      if (o.bias) v += o.bias[n];
      if (beta !== 0 && o.out) v += beta * o.out[m * N + n];
      out[m * N + n] = v;
    }
  }
  return out;
}

export interface MatmulCache {
  inp: Float64Array;
  weight: Float64Array;
  hasBias: boolean;
  M: number; // B·T
  C: number;
  OC: number;
  transposeWeight: boolean;
}

export function forward(
  inp: Float64Array, // (B·T, C)
  weight: Float64Array, // (OC, C), or (C, OC) if transposeWeight
  bias: Float64Array | null, // (OC)
  C: number,
  OC: number,
  opts: { transposeWeight?: boolean } = {},
): { out: Float64Array; cache: MatmulCache } {
  const M = inp.length / C;
  const t = opts.transposeWeight ?? false;
  // out[m,o] = Σ_c inp[m,c] · W[o,c]: B = Wᵀ is (C,OC), i.e. W (OC,C) is B stored transposed.
  const out = gemm(inp, weight, M, OC, C, { transB: !t, bias });
  return { out, cache: { inp, weight, hasBias: bias !== null, M, C, OC, transposeWeight: t } };
}

export function backward(
  dout: Float64Array, // (B·T, OC)
  cache: MatmulCache,
): { dinp: Float64Array; dweight: Float64Array; dbias: Float64Array | null } {
  const { inp, weight, M, C, OC, transposeWeight: t } = cache;
  // dinp[m,c] = Σ_o dout[m,o] · W[o,c]
  const dinp = gemm(dout, weight, M, C, OC, { transB: t });
  // dW[o,c] = Σ_m dout[m,o] · inp[m,c]  (stored like W: (OC,C), or (C,OC) for Conv1D)
  const dweight = t ? gemm(inp, dout, C, OC, M, { transA: true }) : gemm(dout, inp, OC, C, M, { transA: true });
  let dbias: Float64Array | null = null;
  if (cache.hasBias) {
    dbias = new Float64Array(OC);
    for (let m = 0; m < M; m++) for (let o = 0; o < OC; o++) dbias[o] += dout[m * OC + o];
  }
  return { dinp, dweight, dbias };
}

// LayerNorm (GPT-2) and RMSNorm (Llama, Qwen2, Qwen3 and its per-head q/k norm, SmolLM2), plain loops in float64, as llm.c's
// layernorm_forward/backward and Hugging Face's LlamaRMSNorm:
//   layernorm: mean = mean(x), rstd = 1 / sqrt(mean((x-mean)²) + eps), out = (x-mean)·rstd·weight + bias
//   rmsnorm:   mean = 0,       rstd = 1 / sqrt(mean(x²) + eps),        out = x·rstd·weight
// mean (LayerNorm) and rstd are saved for the backward pass.

export type NormKind = 'layernorm' | 'rmsnorm';

export interface NormCache {
  kind: NormKind;
  inp: Float64Array; // (B,T,C)
  weight: Float64Array; // (C)
  mean: Float64Array; // (B,T), zeros for RMSNorm
  rstd: Float64Array; // (B,T)
  B: number;
  T: number;
  C: number;
}

export function forward(
  kind: NormKind,
  inp: Float64Array, // (B,T,C)
  weight: Float64Array, // (C)
  bias: Float64Array | null, // (C), LayerNorm only
  B: number,
  T: number,
  C: number,
  eps: number,
): { out: Float64Array; cache: NormCache } {
  const out = new Float64Array(B * T * C); // (B,T,C)
  const mean = new Float64Array(B * T); // (B,T)
  const rstd = new Float64Array(B * T); // (B,T)
  for (let row = 0; row < B * T; row++) {
    const x = row * C;
    let m = 0;
    if (kind === 'layernorm') {
      for (let i = 0; i < C; i++) m += inp[x + i];
      m /= C;
    }
    let v = 0;
    for (let i = 0; i < C; i++) v += (inp[x + i] - m) * (inp[x + i] - m);
    v /= C;
    const s = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < C; i++) out[x + i] = (inp[x + i] - m) * s * weight[i] + (bias ? bias[i] : 0);
    mean[row] = m;
    rstd[row] = s;
  }
  return { out, cache: { kind, inp, weight, mean, rstd, B, T, C } };
}

// With norm_i = (x_i-mean)·rstd and dnorm_i = w_i·dout_i (llm.c's derivation):
//   dinp_i = rstd·(dnorm_i - mean(dnorm) - norm_i·mean(dnorm·norm))
//   dweight_i = Σ_rows norm_i·dout_i,  dbias_i = Σ_rows dout_i
// RMSNorm's mean is 0, not a function of x, so its mean(dnorm) term drops out; it has no bias.
export function backward(
  dout: Float64Array, // (B,T,C)
  cache: NormCache,
): { dinp: Float64Array; dweight: Float64Array; dbias: Float64Array | null } {
  const { kind, inp, weight, mean, rstd, B, T, C } = cache;
  const dinp = new Float64Array(B * T * C); // (B,T,C)
  const dweight = new Float64Array(C); // (C)
  const dbias = kind === 'layernorm' ? new Float64Array(C) : null; // (C)
  for (let row = 0; row < B * T; row++) {
    const x = row * C;
    let dnormMean = 0;
    let dnormNormMean = 0;
    for (let i = 0; i < C; i++) {
      const norm = (inp[x + i] - mean[row]) * rstd[row];
      const dnorm = weight[i] * dout[x + i];
      dnormMean += dnorm;
      dnormNormMean += dnorm * norm;
    }
    dnormMean = kind === 'layernorm' ? dnormMean / C : 0;
    dnormNormMean /= C;
    for (let i = 0; i < C; i++) {
      const norm = (inp[x + i] - mean[row]) * rstd[row];
      const dnorm = weight[i] * dout[x + i];
      dinp[x + i] = rstd[row] * (dnorm - dnormMean - norm * dnormNormMean);
      dweight[i] += norm * dout[x + i];
      if (dbias) dbias[i] += dout[x + i];
    }
  }
  return { dinp, dweight, dbias };
}

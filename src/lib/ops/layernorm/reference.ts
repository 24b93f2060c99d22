// LayerNorm (GPT-2), plain loops in float64, as llm.c's layernorm_forward/backward:
//   mean = mean(x), rstd = 1 / sqrt(mean((x-mean)²) + eps), out = (x-mean)·rstd·weight + bias.
// mean and rstd are saved for the backward pass.

export interface LayernormCache {
  inp: Float64Array; // (B,T,C)
  weight: Float64Array; // (C)
  mean: Float64Array; // (B,T)
  rstd: Float64Array; // (B,T)
  B: number;
  T: number;
  C: number;
}

export function forward(
  inp: Float64Array, // (B,T,C)
  weight: Float64Array, // (C)
  bias: Float64Array, // (C)
  B: number,
  T: number,
  C: number,
  eps: number,
): { out: Float64Array; cache: LayernormCache } {
  const out = new Float64Array(B * T * C); // (B,T,C)
  const mean = new Float64Array(B * T); // (B,T)
  const rstd = new Float64Array(B * T); // (B,T)
  for (let row = 0; row < B * T; row++) {
    const x = row * C;
    let m = 0;
    for (let i = 0; i < C; i++) m += inp[x + i];
    m /= C;
    let v = 0;
    for (let i = 0; i < C; i++) v += (inp[x + i] - m) * (inp[x + i] - m);
    v /= C;
    const s = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < C; i++) out[x + i] = (inp[x + i] - m) * s * weight[i] + bias[i];
    mean[row] = m;
    rstd[row] = s;
  }
  return { out, cache: { inp, weight, mean, rstd, B, T, C } };
}

// With norm_i = (x_i-mean)·rstd and dnorm_i = w_i·dout_i (llm.c's derivation):
//   dinp_i = rstd·(dnorm_i - mean(dnorm) - norm_i·mean(dnorm·norm))
//   dweight_i = Σ_rows norm_i·dout_i,  dbias_i = Σ_rows dout_i
export function backward(
  dout: Float64Array, // (B,T,C)
  cache: LayernormCache,
): { dinp: Float64Array; dweight: Float64Array; dbias: Float64Array } {
  const { inp, weight, mean, rstd, B, T, C } = cache;
  const dinp = new Float64Array(B * T * C); // (B,T,C)
  const dweight = new Float64Array(C); // (C)
  const dbias = new Float64Array(C); // (C)
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
    dnormMean /= C;
    dnormNormMean /= C;
    for (let i = 0; i < C; i++) {
      const norm = (inp[x + i] - mean[row]) * rstd[row];
      const dnorm = weight[i] * dout[x + i];
      dinp[x + i] = rstd[row] * (dnorm - dnormMean - norm * dnormNormMean);
      dweight[i] += norm * dout[x + i];
      dbias[i] += dout[x + i];
    }
  }
  return { dinp, dweight, dbias };
}

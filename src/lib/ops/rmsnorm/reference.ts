// RMSNorm (Llama, Qwen2, SmolLM2), plain loops in float64: the specification the WGSL kernels are
// tested against. Matches Hugging Face's LlamaRMSNorm in float32:
//   rstd = 1 / sqrt(mean(x²) + eps),  out = x * rstd * weight.

export interface RmsnormCache {
  inp: Float64Array; // (B,T,C)
  weight: Float64Array; // (C)
  rstd: Float64Array; // (B,T)
  B: number;
  T: number;
  C: number;
}

export function forward(
  inp: Float64Array, // (B,T,C)
  weight: Float64Array, // (C)
  B: number,
  T: number,
  C: number,
  eps: number,
): { out: Float64Array; cache: RmsnormCache } {
  const out = new Float64Array(B * T * C); // (B,T,C)
  const rstd = new Float64Array(B * T); // (B,T)
  for (let row = 0; row < B * T; row++) {
    const x = row * C;
    let ss = 0;
    for (let i = 0; i < C; i++) ss += inp[x + i] * inp[x + i];
    const r = 1 / Math.sqrt(ss / C + eps);
    for (let i = 0; i < C; i++) out[x + i] = inp[x + i] * r * weight[i];
    rstd[row] = r;
  }
  return { out, cache: { inp, weight, rstd, B, T, C } };
}

// With n_i = x_i·r and r = (mean(x²)+eps)^(-1/2), dr/dx_j = -r³·x_j/C, so
//   dinp_j = r·w_j·dout_j - (r³·x_j/C)·Σ_i w_i·dout_i·x_i
//   dweight_i = Σ_rows dout_i·x_i·r
export function backward(
  dout: Float64Array, // (B,T,C)
  cache: RmsnormCache,
): { dinp: Float64Array; dweight: Float64Array } {
  const { inp, weight, rstd, B, T, C } = cache;
  const dinp = new Float64Array(B * T * C); // (B,T,C)
  const dweight = new Float64Array(C); // (C)
  for (let row = 0; row < B * T; row++) {
    const x = row * C;
    const r = rstd[row];
    let dot = 0; // Σ_i w_i·dout_i·x_i
    for (let i = 0; i < C; i++) dot += weight[i] * dout[x + i] * inp[x + i];
    for (let i = 0; i < C; i++) {
      dinp[x + i] = r * weight[i] * dout[x + i] - ((r * r * r * inp[x + i]) / C) * dot;
      dweight[i] += dout[x + i] * inp[x + i] * r;
    }
  }
  return { dinp, dweight };
}

// CPU reference for one AdamW step (torch.optim.AdamW semantics, float64), with an optional
// gradient scale (the global-norm clip factor).

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** Step t (1-based). Returns new arrays; the inputs are not modified. */
export function adamwStep(
  param: Float64Array,
  grad: Float64Array,
  m: Float64Array,
  v: Float64Array,
  t: number,
  h: AdamWHyper,
  gradScale = 1,
): { param: Float64Array; m: Float64Array; v: Float64Array } {
  const n = param.length;
  const out = { param: new Float64Array(n), m: new Float64Array(n), v: new Float64Array(n) };
  const bc1 = 1 - Math.pow(h.beta1, t);
  const bc2 = 1 - Math.pow(h.beta2, t);
  for (let i = 0; i < n; i++) {
    const g = grad[i] * gradScale;
    const mi = h.beta1 * m[i] + (1 - h.beta1) * g;
    const vi = h.beta2 * v[i] + (1 - h.beta2) * g * g;
    out.m[i] = mi;
    out.v[i] = vi;
    out.param[i] = param[i] * (1 - h.lr * h.weightDecay) - (h.lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + h.eps);
  }
  return out;
}

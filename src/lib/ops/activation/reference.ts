// Elementwise activations used by the models (GPT-2's gelu_new, Llama's silu) and by adapters
// (PEFT bottleneck adapters take relu, silu or gelu), plain loops in float64:
//   relu(x)      = max(x, 0)
//   silu(x)      = x·sigmoid(x)
//   gelu_tanh(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))   (HF "gelu_new", "gelu_pytorch_tanh")
//   gelu_erf(x)  = 0.5·x·(1 + erf(x/√2))                          (HF "gelu", torch's exact GELU)

export type ActivationKind = 'relu' | 'silu' | 'gelu_tanh' | 'gelu_erf';

export interface ActivationCache {
  inp: Float64Array; // (N)
  kind: ActivationKind;
}

const GELU_SCALE = Math.sqrt(2 / Math.PI);

/** erf in float64 (JS has none): Taylor series near 0, a continued fraction for erfc in the tails. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    // erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n!(2n+1)); terms peak near e^(x²) ≈ 8e3 at |x|=3: ~1e-12 abs.
    let term = x; // (-1)^n x^(2n+1) / n!
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 7) return Math.sign(x);
  // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated bottom-up.
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

function value(x: number, kind: ActivationKind): number {
  switch (kind) {
    case 'relu':
      return x > 0 ? x : 0;
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'gelu_tanh':
      return 0.5 * x * (1 + Math.tanh(GELU_SCALE * (x + 0.044715 * x * x * x)));
    case 'gelu_erf':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
  }
}

function derivative(x: number, kind: ActivationKind): number {
  switch (kind) {
    case 'relu':
      return x > 0 ? 1 : 0;
    case 'silu': {
      const s = 1 / (1 + Math.exp(-x));
      return s * (1 + x * (1 - s));
    }
    case 'gelu_tanh': {
      // d/dx = 0.5(1+tanh u) + 0.5x·(1-tanh²u)·u',  u = √(2/π)(x + 0.044715x³)
      const t = Math.tanh(GELU_SCALE * (x + 0.044715 * x * x * x));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_SCALE * (1 + 3 * 0.044715 * x * x);
    }
    case 'gelu_erf':
      // d/dx = Φ(x) + x·φ(x)
      return 0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);
  }
}

export function forward(
  inp: Float64Array, // (N)
  kind: ActivationKind,
): { out: Float64Array; cache: ActivationCache } {
  const out = new Float64Array(inp.length); // (N)
  for (let i = 0; i < inp.length; i++) out[i] = value(inp[i], kind);
  return { out, cache: { inp, kind } };
}

export function backward(dout: Float64Array, cache: ActivationCache): { dinp: Float64Array } {
  const { inp, kind } = cache;
  const dinp = new Float64Array(inp.length); // (N)
  for (let i = 0; i < inp.length; i++) dinp[i] = dout[i] * derivative(inp[i], kind);
  return { dinp };
}

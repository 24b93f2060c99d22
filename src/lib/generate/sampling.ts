// The one sampler: picks the next token from one row of logits, on the CPU, for both runtimes —
// temperature, then top-k, then top-p (nucleus), in Hugging Face's order.
//
// transformers.js 4.3 cannot take a seed (its sampler draws from a global Mersenne Twister) and does not
// apply top-p at all, so the base runtime samples with this module too (a logits processor, see
// base/runtime.ts): the same seed and the same logits give the same token on either side, so base and
// tuned text are comparable. The engine reads back V floats per generated token, small next to the
// forward pass that produced them.

import type { Rng } from '../random.ts';

/** How to pick the next token. All defaults live in DEFAULT_SAMPLING. */
export interface SamplingOptions {
  /** Stop after this many generated tokens (an end-of-sequence token stops earlier). */
  maxNewTokens: number;
  /** Divides the logits before the softmax; 0 means greedy (always the most likely token). */
  temperature: number;
  /** Keep only the k most likely tokens; 0 keeps all. */
  topK: number;
  /** Keep the smallest set of most likely tokens whose probability adds up to at least topP; 1 keeps all. */
  topP: number;
  /** Seed of the random stream; the same seed gives the same text. */
  seed: number;
}

export const DEFAULT_SAMPLING: SamplingOptions = {
  maxNewTokens: 64, // a few sentences; small models wander after that
  temperature: 0.8, // a little sharper than the model's own distribution
  topK: 40, // cuts the long tail of unlikely tokens
  topP: 0.95, // and the rest of the tail the top-k left in
  seed: 42,
};

/** Limits the page enforces; the worker clamps to them too. */
export const SAMPLING_LIMITS = {
  maxNewTokens: { min: 1, max: 1024 },
  temperature: { min: 0, max: 2 },
  topK: { min: 0, max: 1000 },
  topP: { min: 0.01, max: 1 },
  seed: { min: 0, max: 2 ** 32 - 1 },
} as const;

/** Greedy decoding: temperature 0. */
export function isGreedy(options: Pick<SamplingOptions, 'temperature'>): boolean {
  return options.temperature <= 0;
}

/** Clamps every field into SAMPLING_LIMITS and rounds the integer ones; NaN becomes the default. */
export function normalizeSampling(options: Partial<SamplingOptions>): SamplingOptions {
  const out = { ...DEFAULT_SAMPLING };
  for (const key of Object.keys(SAMPLING_LIMITS) as (keyof SamplingOptions)[]) {
    const value = options[key];
    if (typeof value !== 'number' || Number.isNaN(value)) continue;
    const { min, max } = SAMPLING_LIMITS[key];
    const clamped = Math.min(max, Math.max(min, value));
    out[key] = key === 'temperature' || key === 'topP' ? clamped : Math.round(clamped);
  }
  return out;
}

/** Index of the largest logit (the first one on ties, like torch.argmax). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/**
 * The distribution sampling draws from: softmax(logits / temperature) restricted to the top-k tokens,
 * then to the top-p nucleus, renormalised. Returns the kept token ids, most likely first, and their
 * probabilities (summing to 1).
 */
export function samplingDistribution(
  logits: ArrayLike<number>, // (V)
  options: Pick<SamplingOptions, 'temperature' | 'topK' | 'topP'>,
): { ids: Int32Array; probs: Float64Array } {
  const V = logits.length;
  if (isGreedy(options)) {
    return { ids: Int32Array.of(argmax(logits)), probs: Float64Array.of(1) };
  }
  // Sort token ids by logit, descending; ties keep the lower id first (a stable order).
  const order = Array.from({ length: V }, (_, i) => i).filter((i) => logits[i] > -Infinity);
  order.sort((a, b) => logits[b] - logits[a] || a - b);
  const k = options.topK > 0 ? Math.min(options.topK, order.length) : order.length;
  // softmax over the top-k, in float64, shifted by the max for stability.
  const maxLogit = logits[order[0]];
  const weights = new Float64Array(k);
  let sum = 0;
  for (let j = 0; j < k; j++) {
    weights[j] = Math.exp((logits[order[j]] - maxLogit) / options.temperature);
    sum += weights[j];
  }
  // Nucleus: keep tokens while the probability mass before them is below topP (at least one token).
  let kept = 0;
  let mass = 0;
  while (kept < k && (kept === 0 || mass < options.topP)) {
    mass += weights[kept] / sum;
    kept++;
  }
  const ids = Int32Array.from(order.slice(0, kept));
  const probs = new Float64Array(kept);
  let keptSum = 0;
  for (let j = 0; j < kept; j++) keptSum += weights[j];
  for (let j = 0; j < kept; j++) probs[j] = weights[j] / keptSum;
  return { ids, probs };
}

/** Draws the next token id from the logits of one position. Greedy when temperature is 0. */
export function sampleToken(
  logits: ArrayLike<number>, // (V)
  options: Pick<SamplingOptions, 'temperature' | 'topK' | 'topP'>,
  rng: Rng,
): number {
  if (isGreedy(options)) return argmax(logits);
  const { ids, probs } = samplingDistribution(logits, options);
  const u = rng();
  let cumulative = 0;
  for (let j = 0; j < ids.length; j++) {
    cumulative += probs[j];
    if (u < cumulative) return ids[j];
  }
  return ids[ids.length - 1]; // u within rounding of 1
}

// Picking the next token from one row of logits (V), on the CPU: the GPU hands back V floats per
// generated token, which is small next to the forward pass that produced them.
// Order of the warpers follows transformers' generate(): temperature, then top-k, then top-p.

export interface SamplingConfig {
  /** 0 (or doSample false) = greedy argmax */
  temperature: number;
  /** keep only the k most likely tokens (0 = off) */
  topK: number;
  /** keep the smallest set of tokens whose probability reaches p (1 = off) */
  topP: number;
  /** seed of the RNG that draws the samples, so a run can be repeated exactly */
  seed: number;
}

export const greedySampling: SamplingConfig = { temperature: 0, topK: 0, topP: 1, seed: 0 };

/** mulberry32: small, fast, seeded; gives the same stream in every JS engine. */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index of the largest logit (the first one on ties, like torch.argmax). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/**
 * The distribution sampling draws from after temperature, top-k and top-p: (token, probability)
 * pairs sorted by falling probability, summing to 1.
 */
export function samplingDistribution(logits: ArrayLike<number>, cfg: SamplingConfig): { ids: number[]; probs: number[] } {
  const V = logits.length;
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  let keep = cfg.topK > 0 ? Math.min(cfg.topK, V) : V;
  const t = cfg.temperature;
  const maxLogit = logits[order[0]];
  const weights: number[] = [];
  let sum = 0;
  for (let i = 0; i < keep; i++) {
    const w = Math.exp((logits[order[i]] - maxLogit) / t);
    weights.push(w);
    sum += w;
  }
  if (cfg.topP < 1) {
    // transformers' TopPLogitsWarper keeps tokens until the cumulative probability passes top_p,
    // always keeping at least one.
    let cumulative = 0;
    let n = 0;
    while (n < keep) {
      cumulative += weights[n] / sum;
      n++;
      if (cumulative >= cfg.topP) break;
    }
    keep = n;
    sum = 0;
    for (let i = 0; i < keep; i++) sum += weights[i];
  }
  return { ids: order.slice(0, keep), probs: weights.slice(0, keep).map((w) => w / sum) };
}

/** Draws the next token: greedy when temperature is 0, else from samplingDistribution with `rng`. */
export function sampleToken(logits: ArrayLike<number>, cfg: SamplingConfig, rng: () => number): number {
  if (!(cfg.temperature > 0)) return argmax(logits);
  const { ids, probs } = samplingDistribution(logits, cfg);
  let u = rng();
  for (let i = 0; i < ids.length; i++) {
    u -= probs[i];
    if (u < 0) return ids[i];
  }
  return ids[ids.length - 1];
}

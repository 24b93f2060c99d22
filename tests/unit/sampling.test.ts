import { describe, expect, it } from 'vitest';
import { DEFAULT_SAMPLING, argmax, normalizeSampling, sampleToken, samplingDistribution } from '../../src/lib/generate/sampling.ts';
import { createRng, permutation } from '../../src/lib/random.ts';

const logitsOf = (probs: number[]) => Float32Array.from(probs.map(Math.log));

describe('createRng', () => {
  it('gives the same stream for the same seed and a different one for another seed', () => {
    const a = createRng(7);
    const b = createRng(7);
    const c = createRng(8);
    const sa = Array.from({ length: 100 }, a);
    expect(Array.from({ length: 100 }, b)).toEqual(sa);
    expect(Array.from({ length: 100 }, c)).not.toEqual(sa);
  });

  it('draws uniformly in [0, 1)', () => {
    const rng = createRng(123);
    const n = 100_000;
    const bins = new Array(10).fill(0);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const u = rng();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      bins[Math.floor(u * 10)]++;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    // Each bin expects 10,000 ± 95 (one standard deviation); 5 sigma is a loose, fixed-seed bound.
    for (const count of bins) expect(Math.abs(count - n / 10)).toBeLessThan(5 * Math.sqrt(n * 0.1 * 0.9));
  });
});

describe('permutation', () => {
  it('holds every index once, and the seed decides the order', () => {
    const p = permutation(50, 3);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(permutation(50, 3))).toEqual(Array.from(p));
    expect(Array.from(permutation(50, 4))).not.toEqual(Array.from(p));
  });
});

describe('samplingDistribution', () => {
  it('is greedy at temperature 0: only the argmax, first on ties', () => {
    const { ids, probs } = samplingDistribution([1, 3, 3, 0], { temperature: 0, topK: 0, topP: 1 });
    expect(Array.from(ids)).toEqual([1]);
    expect(Array.from(probs)).toEqual([1]);
    expect(argmax([1, 3, 3, 0])).toBe(1);
  });

  it('is the softmax of logits / temperature when top-k and top-p keep everything', () => {
    const logits = [0.5, -1, 2, 0];
    const T = 0.7;
    const { ids, probs } = samplingDistribution(logits, { temperature: T, topK: 0, topP: 1 });
    const e = logits.map((l) => Math.exp(l / T));
    const z = e.reduce((x, y) => x + y);
    expect(Array.from(ids)).toEqual([2, 0, 3, 1]); // most likely first
    Array.from(ids).forEach((id, j) => expect(probs[j]).toBeCloseTo(e[id] / z, 12));
  });

  it('keeps the k most likely tokens, renormalised', () => {
    const { ids, probs } = samplingDistribution(logitsOf([0.1, 0.4, 0.2, 0.3]), { temperature: 1, topK: 2, topP: 1 });
    expect(Array.from(ids)).toEqual([1, 3]);
    expect(probs[0]).toBeCloseTo(0.4 / 0.7, 6);
    expect(probs[1]).toBeCloseTo(0.3 / 0.7, 6);
  });

  it('keeps the smallest nucleus whose mass reaches top-p (the token crossing it included)', () => {
    const logits = logitsOf([0.5, 0.3, 0.15, 0.05]);
    expect(Array.from(samplingDistribution(logits, { temperature: 1, topK: 0, topP: 0.5 }).ids)).toEqual([0]);
    expect(Array.from(samplingDistribution(logits, { temperature: 1, topK: 0, topP: 0.6 }).ids)).toEqual([0, 1]);
    expect(Array.from(samplingDistribution(logits, { temperature: 1, topK: 0, topP: 0.9 }).ids)).toEqual([0, 1, 2]);
    expect(Array.from(samplingDistribution(logits, { temperature: 1, topK: 0, topP: 0.01 }).ids)).toEqual([0]);
  });

  it('applies top-k before top-p, as Hugging Face does', () => {
    // After top-k=2 the renormalised probabilities are 0.625 and 0.375, so top-p=0.6 keeps one token.
    const { ids } = samplingDistribution(logitsOf([0.5, 0.3, 0.15, 0.05]), { temperature: 1, topK: 2, topP: 0.6 });
    expect(Array.from(ids)).toEqual([0]);
  });

  it('never keeps tokens whose logit is -inf', () => {
    const { ids } = samplingDistribution([0, -Infinity, 1, -Infinity], { temperature: 1, topK: 0, topP: 1 });
    expect(Array.from(ids).sort()).toEqual([0, 2]);
  });
});

describe('sampleToken', () => {
  it('returns the argmax at temperature 0 without drawing', () => {
    let draws = 0;
    const rng = () => {
      draws++;
      return 0.99;
    };
    expect(sampleToken([0, 5, 1], { temperature: 0, topK: 0, topP: 1 }, rng)).toBe(1);
    expect(draws).toBe(0);
  });

  it('draws tokens with the frequencies of the sampling distribution', () => {
    const logits = logitsOf([0.5, 0.3, 0.15, 0.05]);
    const options = { temperature: 1, topK: 3, topP: 1 };
    const rng = createRng(2024);
    const n = 50_000;
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) counts[sampleToken(logits, options, rng)]++;
    const expected = [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0];
    counts.forEach((c, id) => expect(Math.abs(c / n - expected[id])).toBeLessThan(0.01));
  });

  it('gives the same tokens for the same seed', () => {
    const logits = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i));
    const options = { temperature: 1.2, topK: 20, topP: 0.9 };
    const run = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 40 }, () => sampleToken(logits, options, rng));
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });
});

describe('normalizeSampling', () => {
  it('clamps to the limits, rounds integers and fills gaps with defaults', () => {
    expect(normalizeSampling({ maxNewTokens: 5000, temperature: -1, topK: 3.6, topP: 2, seed: Number.NaN })).toEqual({
      maxNewTokens: 1024,
      temperature: 0,
      topK: 4,
      topP: 1,
      seed: DEFAULT_SAMPLING.seed,
    });
    expect(normalizeSampling({})).toEqual(DEFAULT_SAMPLING);
  });
});

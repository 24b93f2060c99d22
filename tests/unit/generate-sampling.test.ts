import { describe, expect, it } from 'vitest';
import { argmax, createRng, sampleToken, samplingDistribution } from '../../src/lib/generate/sampling';

const logits = [1.0, 3.0, 2.0, -1.0, 3.0 - 1e-3];

describe('sampling', () => {
  it('greedy picks the largest logit, the first one on ties', () => {
    expect(argmax(logits)).toBe(1);
    expect(argmax([2, 5, 5, 1])).toBe(1);
    expect(sampleToken(logits, { temperature: 0, topK: 0, topP: 1, seed: 0 }, createRng(1))).toBe(1);
  });

  it('temperature 1 without top-k/top-p is the softmax', () => {
    const { ids, probs } = samplingDistribution(logits, { temperature: 1, topK: 0, topP: 1, seed: 0 });
    const z = logits.reduce((s, l) => s + Math.exp(l), 0);
    ids.forEach((id, i) => expect(probs[i]).toBeCloseTo(Math.exp(logits[id]) / z, 12));
    expect(ids).toHaveLength(logits.length);
  });

  it('temperature sharpens (t<1) and flattens (t>1) the distribution', () => {
    const p = (t: number) => samplingDistribution(logits, { temperature: t, topK: 0, topP: 1, seed: 0 }).probs[0];
    expect(p(0.5)).toBeGreaterThan(p(1));
    expect(p(2)).toBeLessThan(p(1));
  });

  it('top-k keeps the k most likely tokens, renormalised', () => {
    const { ids, probs } = samplingDistribution(logits, { temperature: 1, topK: 2, topP: 1, seed: 0 });
    expect(ids).toEqual([1, 4]);
    expect(probs[0] + probs[1]).toBeCloseTo(1, 12);
  });

  it('top-p keeps the smallest prefix whose mass reaches p', () => {
    // softmax of [0, ln 2, ln 5] / 8 -> [1/8, 2/8, 5/8]
    const l = [0, Math.log(2), Math.log(5)];
    expect(samplingDistribution(l, { temperature: 1, topK: 0, topP: 0.6, seed: 0 }).ids).toEqual([2]);
    expect(samplingDistribution(l, { temperature: 1, topK: 0, topP: 0.8, seed: 0 }).ids).toEqual([2, 1]);
    expect(samplingDistribution(l, { temperature: 1, topK: 0, topP: 0.99, seed: 0 }).ids).toEqual([2, 1, 0]);
  });

  it('the same seed draws the same tokens; the draws follow the distribution', () => {
    const cfg = { temperature: 1, topK: 0, topP: 1, seed: 7 };
    const draw = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 50 }, () => sampleToken(logits, cfg, rng));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    const rng = createRng(3);
    const counts = new Array(logits.length).fill(0);
    const n = 20000;
    for (let i = 0; i < n; i++) counts[sampleToken(logits, cfg, rng)]++;
    const { ids, probs } = samplingDistribution(logits, cfg);
    ids.forEach((id, i) => expect(Math.abs(counts[id] / n - probs[i])).toBeLessThan(0.015));
  });
});

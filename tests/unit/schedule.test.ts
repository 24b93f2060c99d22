// Learning-rate schedule: linear warmup, then cosine / linear decay to the minimum, or constant.
import { describe, expect, it } from 'vitest';
import { learningRateAt, learningRates, type Schedule } from '../../src/lib/train/schedule.ts';

const S: Schedule = { learningRate: 1e-3, minLearningRate: 1e-4, warmupSteps: 10, maxSteps: 110, schedule: 'cosine' };

describe('learning-rate schedule', () => {
  it('warms up linearly from lr/warmup to the peak', () => {
    expect(learningRateAt(S, 0)).toBeCloseTo(1e-4, 15);
    expect(learningRateAt(S, 4)).toBeCloseTo(5e-4, 15);
    expect(learningRateAt(S, 9)).toBeCloseTo(1e-3, 15);
    for (let i = 1; i < 10; i++) expect(learningRateAt(S, i) - learningRateAt(S, i - 1)).toBeCloseTo(1e-4, 15);
  });

  it('cosine: peak right after warmup, halfway value at the midpoint, minimum at the end', () => {
    expect(learningRateAt(S, 10)).toBeCloseTo(1e-3, 15);
    expect(learningRateAt(S, 60)).toBeCloseTo((1e-3 + 1e-4) / 2, 15);
    expect(learningRateAt(S, 35)).toBeCloseTo(1e-4 + 0.5 * 9e-4 * (1 + Math.cos(Math.PI / 4)), 15);
    expect(learningRateAt(S, 110)).toBe(1e-4);
    expect(learningRateAt(S, 1000)).toBe(1e-4);
  });

  it('linear: decays by equal steps to the minimum', () => {
    const L = { ...S, schedule: 'linear' as const };
    expect(learningRateAt(L, 10)).toBeCloseTo(1e-3, 15);
    expect(learningRateAt(L, 60)).toBeCloseTo(5.5e-4, 15);
    expect(learningRateAt(L, 85)).toBeCloseTo(1e-3 - 0.75 * 9e-4, 15);
    expect(learningRateAt(L, 110)).toBe(1e-4);
  });

  it('constant: the peak after warmup, forever', () => {
    const C = { ...S, schedule: 'constant' as const };
    expect(learningRateAt(C, 0)).toBeCloseTo(1e-4, 15);
    expect(learningRateAt(C, 10)).toBe(1e-3);
    expect(learningRateAt(C, 5000)).toBe(1e-3);
  });

  it('never increases after warmup and stays within [min, peak]', () => {
    for (const schedule of ['cosine', 'linear'] as const) {
      const lrs = learningRates({ ...S, schedule });
      expect(lrs.length).toBe(110);
      for (let i = 11; i < lrs.length; i++) expect(lrs[i]).toBeLessThanOrEqual(lrs[i - 1]);
      for (const x of lrs) {
        expect(x).toBeGreaterThanOrEqual(1e-4 - 1e-18);
        expect(x).toBeLessThanOrEqual(1e-3 + 1e-18);
      }
    }
  });

  it('works without warmup and when warmup covers every step', () => {
    expect(learningRateAt({ ...S, warmupSteps: 0 }, 0)).toBe(1e-3);
    const allWarm = { ...S, warmupSteps: 20, maxSteps: 20 };
    expect(learningRateAt(allWarm, 19)).toBeCloseTo(1e-3, 15);
    expect(learningRateAt(allWarm, 20)).toBe(1e-4);
  });

  it('rejects schedules and steps that make no sense, saying why', () => {
    expect(() => learningRateAt({ ...S, learningRate: 0 }, 0)).toThrow(/learningRate 0/);
    expect(() => learningRateAt({ ...S, minLearningRate: 2e-3 }, 0)).toThrow(/minLearningRate/);
    expect(() => learningRateAt({ ...S, warmupSteps: -1 }, 0)).toThrow(/warmupSteps/);
    expect(() => learningRateAt({ ...S, maxSteps: 0 }, 0)).toThrow(/maxSteps/);
    expect(() => learningRateAt(S, -1)).toThrow(/step -1/);
  });
});

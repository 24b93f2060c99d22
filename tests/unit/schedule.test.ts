// Learning-rate schedule: linear warmup, then cosine / linear decay to the minimum, or constant.
import { describe, expect, it } from 'vitest';
import { learningRateAt as lrAt, type Schedule } from '../../src/lib/train/schedule.ts';

type Run = Schedule & { steps: number };
const S: Run = { learning_rate: 1e-3, min_lr_rate: 0.1, warmup_steps: 10, steps: 110, lr_scheduler_type: 'cosine' };
const learningRateAt = (s: Run, step: number) => lrAt(s, s.steps, step);
const learningRates = (s: Run) => Array.from({ length: s.steps }, (_, i) => learningRateAt(s, i));

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
    const L = { ...S, lr_scheduler_type: 'linear' as const };
    expect(learningRateAt(L, 10)).toBeCloseTo(1e-3, 15);
    expect(learningRateAt(L, 60)).toBeCloseTo(5.5e-4, 15);
    expect(learningRateAt(L, 85)).toBeCloseTo(1e-3 - 0.75 * 9e-4, 15);
    expect(learningRateAt(L, 110)).toBe(1e-4);
  });

  it('constant: the peak after warmup, forever', () => {
    const C = { ...S, lr_scheduler_type: 'constant' as const };
    expect(learningRateAt(C, 0)).toBeCloseTo(1e-4, 15);
    expect(learningRateAt(C, 10)).toBe(1e-3);
    expect(learningRateAt(C, 5000)).toBe(1e-3);
  });

  it('never increases after warmup and stays within [min, peak]', () => {
    for (const schedule of ['cosine', 'linear'] as const) {
      const lrs = learningRates({ ...S, lr_scheduler_type: schedule });
      expect(lrs.length).toBe(110);
      for (let i = 11; i < lrs.length; i++) expect(lrs[i]).toBeLessThanOrEqual(lrs[i - 1]);
      for (const x of lrs) {
        expect(x).toBeGreaterThanOrEqual(1e-4 - 1e-18);
        expect(x).toBeLessThanOrEqual(1e-3 + 1e-18);
      }
    }
  });

  it('works without warmup and when warmup covers every step', () => {
    expect(learningRateAt({ ...S, warmup_steps: 0 }, 0)).toBe(1e-3);
    const allWarm = { ...S, warmup_steps: 20, steps: 20 };
    expect(learningRateAt(allWarm, 19)).toBeCloseTo(1e-3, 15);
    expect(learningRateAt(allWarm, 20)).toBe(1e-4);
  });

  it('rejects schedules and steps that make no sense, saying why', () => {
    expect(() => learningRateAt({ ...S, learning_rate: 0 }, 0)).toThrow(/learning_rate 0/);
    expect(() => learningRateAt({ ...S, min_lr_rate: 2 }, 0)).toThrow(/min_lr_rate/);
    expect(() => learningRateAt({ ...S, warmup_steps: -1 }, 0)).toThrow(/warmup_steps/);
    expect(() => learningRateAt({ ...S, steps: 0 }, 0)).toThrow(/steps/);
    expect(learningRateAt({ ...S, warmup_steps: 50, steps: 20 }, 19)).toBeCloseTo(1e-3, 15);
    expect(() => learningRateAt(S, -1)).toThrow(/step -1/);
  });
});

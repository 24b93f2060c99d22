// The run's best point and early stopping (train/best.ts), as Transformers' EarlyStoppingCallback
// counts: evaluations in a row without a new lowest validation loss, reset by each new lowest.
import { describe, expect, it } from 'vitest';
import { BestTracker } from '../../src/lib/train/best.ts';

describe('best validation loss and early stopping', () => {
  it('keeps the lowest loss and its step; a tie or a NaN is not a new lowest', () => {
    const t = new BestTracker(0);
    expect(t.observe(0, 6.5)).toBe(true);
    expect(t.observe(20, 2.1)).toBe(true);
    expect(t.observe(40, 2.1)).toBe(false);
    expect(t.observe(60, NaN)).toBe(false);
    expect(t.observe(80, 3.0)).toBe(false);
    expect(t.best).toEqual({ step: 20, loss: 2.1 });
    expect(t.sinceBest).toBe(3);
    expect(t.shouldStop).toBe(false); // patience 0: never
  });

  it('stops after `patience` evaluations in a row without a new lowest, the counter reset by one', () => {
    const t = new BestTracker(2);
    const losses = [5, 4, 4.5, 3.9, 4.2, 4.1];
    const stops = losses.map((l, i) => (t.observe(i * 10, l), t.shouldStop));
    expect(stops).toEqual([false, false, false, false, false, true]);
    expect(t.best).toEqual({ step: 30, loss: 3.9 });
    expect(t.stopMessage).toBe('Stopped early: the validation loss has not gone below 3.9000 (step 30) for 2 evaluations in a row (early_stopping_patience 2).');
  });

  it("a resumed run starts from its earlier validation losses: their lowest is the one to beat", () => {
    const t = new BestTracker(1, [
      { step: 0, loss: 5 },
      { step: 10, loss: 2 },
      { step: 20, loss: 2.5 },
    ]);
    expect(t.best).toEqual({ step: 10, loss: 2 });
    expect(t.shouldStop).toBe(true);
    expect(t.observe(30, 1.5)).toBe(true);
    expect(t.shouldStop).toBe(false);
  });
});

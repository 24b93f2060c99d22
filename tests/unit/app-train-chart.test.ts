// The training screen's arithmetic: loss-chart geometry, speed and time left, adapter names.

import { describe, expect, it } from 'vitest';
import { linePath, lossScales, niceTicks, smooth, thin, type LossPoint } from '../../src/ui/train/chart.ts';
import { etaMs, msPerStep, tokensPerSecond, type StepSample } from '../../src/ui/train/meter.ts';
import { fileStem, nameProblem, uniqueName } from '../../src/lib/store/names.ts';

const frame = { width: 200, height: 100, margin: { left: 10, right: 10, top: 10, bottom: 10 } };

describe('niceTicks', () => {
  it('covers the range with steps of 1, 2 or 5 times a power of ten', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(2.31, 2.87, 4)).toEqual([2.4, 2.6, 2.8]);
    expect(niceTicks(0, 1000, 4)).toEqual([0, 500, 1000]);
  });
  it('gives one tick for an empty range and none for a non-finite one', () => {
    expect(niceTicks(3, 3)).toEqual([3]);
    expect(niceTicks(0, Infinity)).toEqual([]);
  });
});

describe('lossScales', () => {
  const train: LossPoint[] = [
    { step: 1, loss: 8 },
    { step: 2, loss: 6 },
    { step: 3, loss: 4 },
  ];
  it('maps the highest loss near the top and the lowest near the bottom, inside the frame', () => {
    const s = lossScales([train], frame, 10);
    expect(s.py(8)).toBeGreaterThanOrEqual(frame.margin.top);
    expect(s.py(8)).toBeLessThan(s.py(4));
    expect(s.py(4)).toBeLessThanOrEqual(frame.height - frame.margin.bottom);
  });
  it('spans x to the planned number of steps, so the curve grows from the left', () => {
    const s = lossScales([train], frame, 10);
    expect(s.px(0)).toBe(frame.margin.left);
    expect(s.px(10)).toBe(frame.width - frame.margin.right);
    expect(s.x.max).toBe(10);
  });
  it('ignores NaN and Infinity when choosing the range', () => {
    const s = lossScales([[...train, { step: 4, loss: NaN }, { step: 5, loss: Infinity }]], frame, 5);
    expect(s.y.max).toBeLessThan(9);
    expect(Number.isFinite(s.py(6))).toBe(true);
  });
});

describe('linePath and thin', () => {
  it('draws one move then lines, skipping non-finite losses', () => {
    const s = lossScales([], frame, 2);
    const d = linePath(
      [
        { step: 0, loss: 1 },
        { step: 1, loss: NaN },
        { step: 2, loss: 0 },
      ],
      s,
    );
    expect(d.match(/M/g)).toHaveLength(1);
    expect(d.match(/L/g)).toHaveLength(1);
  });
  it('thins a long run to at most two points per column plus the last, keeping a spike', () => {
    const points = Array.from({ length: 10_000 }, (_, i) => ({ step: i + 1, loss: i === 5000 ? 99 : 1 + 1 / (i + 1) }));
    const out = thin(points, 100);
    expect(out.length).toBeLessThanOrEqual(201);
    expect(out.some((p) => p.loss === 99)).toBe(true);
    expect(out.at(-1)).toEqual(points.at(-1));
    for (let i = 1; i < out.length; i++) expect(out[i].step).toBeGreaterThan(out[i - 1].step);
  });
});

describe('smooth', () => {
  it('starts at the first value (bias-corrected) and follows a constant exactly', () => {
    const out = smooth(Array.from({ length: 5 }, (_, i) => ({ step: i, loss: 3 })));
    for (const p of out) expect(p.loss).toBeCloseTo(3, 12);
  });
  it('lags behind a drop', () => {
    const out = smooth([
      { step: 1, loss: 4 },
      { step: 2, loss: 2 },
    ]);
    expect(out[1].loss).toBeGreaterThan(2);
    expect(out[1].loss).toBeLessThan(4);
  });
});

describe('speed and time left', () => {
  const samples: StepSample[] = Array.from({ length: 11 }, (_, i) => ({ step: i + 1, tokens: (i + 1) * 512, elapsedMs: 2000 + i * 250 }));
  it('measures tokens per second over the recent steps (the slow first step fades out)', () => {
    expect(tokensPerSecond(samples, 5)).toBeCloseTo(512 / 0.25, 6);
  });
  it('estimates the time left from the recent step time', () => {
    expect(msPerStep(samples, 5)).toBeCloseTo(250, 9);
    expect(etaMs(samples, 21, 5)).toBeCloseTo(10 * 250, 6);
    expect(etaMs(samples, 11)).toBe(0);
  });
  it('says NaN rather than guessing before any step', () => {
    expect(etaMs([], 10)).toBeNaN();
    expect(tokensPerSecond([])).toBe(0);
  });
});

describe('adapter names', () => {
  const others = [
    { id: 'a', name: 'Pirate LoRA' },
    { id: 'b', name: 'fables' },
  ];
  it('refuses empty, too long, control characters and a name another adapter has (any case)', () => {
    expect(nameProblem('   ', others)).toMatch(/empty/);
    expect(nameProblem('x'.repeat(81), others)).toMatch(/at most 80/);
    expect(nameProblem('a\tb', others)).toMatch(/control/);
    expect(nameProblem('pirate lora', others)).toMatch(/already exists/);
  });
  it('lets an adapter keep its own name and accepts a fresh one', () => {
    expect(nameProblem('Pirate LoRA ', others, 'a')).toBeNull();
    expect(nameProblem('Pirate LoRA 2', others)).toBeNull();
  });
  it('numbers a taken name', () => {
    expect(uniqueName('fables', others)).toBe('fables (2)');
    expect(uniqueName('fables', [...others, { name: 'Fables (2)' }])).toBe('fables (3)');
    expect(uniqueName('new', others)).toBe('new');
  });
  it('makes a file-system-safe stem', () => {
    expect(fileStem('LoRA · pirate-qa.jsonl (2)')).toBe('LoRA-pirate-qa.jsonl-2');
    expect(fileStem('Ünïcode/../x')).toBe('Unicode-..-x');
    expect(fileStem('///')).toBe('adapter');
  });
});

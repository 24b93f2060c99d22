// The training screen's arithmetic: loss-chart geometry, speed and time left, adapter names.

import { describe, expect, it } from 'vitest';
import { linePath, lossScales, niceTicks, smooth, thin, tickLabels, type LossPoint } from '../../src/ui/train/chart.ts';
import { detectOverfitting, lowestPoint, overfittingMessage } from '../../src/ui/train/overfit.ts';
import { etaMs, msPerStep, tokensPerSecond, type StepSample } from '../../src/ui/train/meter.ts';
import { fileStem, nameProblem, uniqueName } from '../../src/lib/store/names.ts';

const frame = { width: 200, height: 100, margin: { left: 10, right: 10, top: 10, bottom: 10 } };

describe('niceTicks', () => {
  it('covers the range with steps of 1, 2 or 5 times a power of ten', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(2.31, 2.87, 4)).toEqual([2.4, 2.6, 2.8]);
    expect(niceTicks(0, 1000, 4)).toEqual([0, 500, 1000]);
  });
  it('gives at least two ticks for any range, taking a smaller step when the first fits one', () => {
    // One step of 1 fits no tick in (1.01, 1.99), 0.5 fits one (1.5), 0.2 fits four.
    expect(niceTicks(1.01, 1.99, 1)).toEqual([1.2, 1.4, 1.6, 1.8]);
  });
  it('gives one tick for an empty range and none for a non-finite one', () => {
    expect(niceTicks(3, 3)).toEqual([3]);
    expect(niceTicks(0, Infinity)).toEqual([]);
  });
});

describe('tickLabels', () => {
  it('writes a narrow range with the decimals its step needs', () => {
    expect(tickLabels(niceTicks(5.5944, 5.6056, 4))).toEqual(['5.595', '5.600', '5.605']);
    expect(tickLabels(niceTicks(0, 10, 5))).toEqual(['0', '2', '4', '6', '8', '10']);
    expect(tickLabels(niceTicks(2.31, 2.87, 4))).toEqual(['2.4', '2.6', '2.8']);
  });

  it('gives distinct labels that read back as their ticks, over many ranges and scales', () => {
    // A fixed pseudo-random walk over lows from 1e-3 to 1e3 and spans from 1e-5 to 10× the low.
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let checked = 0;
    for (let i = 0; i < 2000; i++) {
      const low = 10 ** (rand() * 6 - 3);
      const span = low * 10 ** (rand() * 6 - 5);
      for (const count of [3, 4, 5, 8]) {
        const ticks = niceTicks(low, low + span, count);
        const labels = tickLabels(ticks);
        expect(ticks.length).toBeGreaterThanOrEqual(2);
        expect(new Set(labels).size, `${low}..${low + span}: ${labels.join(', ')}`).toBe(labels.length);
        const step = ticks[1] - ticks[0];
        for (let j = 0; j < ticks.length; j++) expect(Math.abs(Number(labels[j]) - ticks[j])).toBeLessThan(step / 2);
        checked += ticks.length;
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });

  it('labels the loss chart’s y axis distinctly even when the loss barely moves', () => {
    const flat = [5.6, 5.598, 5.597, 5.599].map((loss, i) => ({ step: i + 1, loss }));
    const s = lossScales([flat], frame, 4);
    expect(s.y.ticks.length).toBeGreaterThan(1);
    expect(new Set(s.y.labels).size).toBe(s.y.labels.length);
  });
});

describe('overfitting', () => {
  const curve = (...losses: number[]) => losses.map((loss, i) => ({ step: (i + 1) * 10, loss }));

  it('is said once the validation loss has risen three evaluations in a row, from its lowest point', () => {
    const o = detectOverfitting(curve(3, 2, 1, 1.1, 1.2, 1.45));
    expect(o).not.toBeNull();
    expect(o!.lowest).toEqual({ step: 30, loss: 1 });
    expect(o!.last).toEqual({ step: 60, loss: 1.45 });
    expect(o!.rise).toBeCloseTo(0.45, 12);
    expect(overfittingMessage(o!)).toBe('overfitting: validation loss up 45% since step 30');
  });

  it('is not said for a falling curve, two rises, a rise broken by a dip, or a rise too small to matter', () => {
    expect(detectOverfitting(curve(3, 2, 1.5, 1.2, 1.1))).toBeNull();
    expect(detectOverfitting(curve(3, 2, 1, 1.1, 1.2))).toBeNull();
    expect(detectOverfitting(curve(3, 1, 1.1, 1.05, 1.2, 1.3))).toBeNull();
    expect(detectOverfitting(curve(2, 1, 1.001, 1.002, 1.003))).toBeNull();
    expect(detectOverfitting([])).toBeNull();
  });

  it('measures from the lowest point even when it came before an earlier bump', () => {
    const o = detectOverfitting(curve(3, 0.8, 1.5, 0.9, 1.0, 1.1, 1.2));
    expect(o!.lowest.step).toBe(20);
    expect(overfittingMessage(o!)).toBe('overfitting: validation loss up 50% since step 20');
  });

  it('leaves NaN out and finds the lowest finite point', () => {
    expect(lowestPoint(curve(NaN, 2, 1, Infinity))).toEqual({ step: 30, loss: 1 });
    expect(detectOverfitting(curve(2, 1, NaN, 1.2, 1.3, 1.4))).not.toBeNull();
    expect(overfittingMessage({ lowest: { step: 5, loss: 1 }, last: { step: 9, loss: 1.042 }, rise: 0.042 })).toBe(
      'overfitting: validation loss up 4.2% since step 5',
    );
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

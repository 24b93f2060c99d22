// How a training run walks its data (data/batches.ts): batches per step (resumable), gradient
// accumulation's micro-batches, held-out batches; and how often a run keeps a checkpoint.

import { describe, expect, it } from 'vitest';
import { IGNORE_INDEX, type PackedRows } from '../../src/lib/data/pack.ts';
import { batchRows, evalBatches, gatherRows, stepBatches } from '../../src/lib/data/batches.ts';
import { checkpointInterval } from '../../src/lib/train/run.ts';

function rows(n: number, T: number, counted: (r: number) => number): PackedRows {
  const inputIds = new Int32Array(n * T);
  const targets = new Int32Array(n * T).fill(IGNORE_INDEX);
  for (let r = 0; r < n; r++) {
    for (let t = 0; t < T; t++) inputIds[r * T + t] = 100 * r + t;
    for (let t = 0; t < counted(r); t++) targets[r * T + t] = 100 * r + t + 1;
  }
  const countedPerRow = Int32Array.from({ length: n }, (_, r) => counted(r));
  return { T, rows: n, inputIds, targets, countedPerRow, countedTokens: countedPerRow.reduce((a, b) => a + b, 0), warnings: [], leftOut: [] };
}

describe('batchRows', () => {
  it('visits every row once per epoch', () => {
    const seen: number[] = [];
    for (let step = 0; step < 5; step++) seen.push(...batchRows(10, 2, 7, step));
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
  it('shuffles each epoch differently, and the same way for the same seed', () => {
    const epoch = (e: number, seed: number) => Array.from({ length: 5 }, (_, s) => batchRows(10, 2, seed, e * 5 + s)).flat();
    expect(epoch(0, 7)).not.toEqual(epoch(1, 7));
    expect(epoch(1, 7)).toEqual(epoch(1, 7));
    expect(epoch(0, 7)).not.toEqual(epoch(0, 8));
  });
  it('depends only on the step, so a resumed run continues with the same batches', () => {
    const straight = Array.from({ length: 12 }, (_, s) => batchRows(7, 3, 1, s));
    const resumed = Array.from({ length: 6 }, (_, s) => batchRows(7, 3, 1, s + 6));
    expect(resumed).toEqual(straight.slice(6));
  });
  it('fills a batch bigger than the data by repeating rows', () => {
    const b = batchRows(3, 8, 0, 0);
    expect(b).toHaveLength(8);
    for (const r of b) expect(r).toBeGreaterThanOrEqual(0);
    for (const r of b) expect(r).toBeLessThan(3);
  });
  it('refuses an empty dataset', () => {
    expect(() => batchRows(0, 2, 0, 0)).toThrow(/no training rows/);
  });
});

describe('gatherRows', () => {
  it('copies the picked rows, in order, into one (B,T) batch', () => {
    const data = rows(4, 3, () => 2);
    const b = gatherRows(data, [2, 0]);
    expect([...b.ids]).toEqual([200, 201, 202, 0, 1, 2]);
    expect([...b.targets]).toEqual([201, 202, IGNORE_INDEX, 1, 2, IGNORE_INDEX]);
  });
});

describe('stepBatches', () => {
  it('gives each optimizer step `accumulation` consecutive micro-batches of the same run-wide order', () => {
    const data = rows(10, 3, () => 2);
    const flat = Array.from({ length: 6 }, (_, k) => gatherRows(data, batchRows(10, 4, 7, k)));
    const steps = [0, 1, 2].map((s) => stepBatches(data, 4, 2, 7, s));
    expect(steps.flat().map((b) => [...b.ids])).toEqual(flat.map((b) => [...b.ids]));
    expect(steps.every((s) => s.length === 2 && s.every((b) => b.B === 4 && b.T === 3))).toBe(true);
  });
});

describe('evalBatches', () => {
  it('pads the last batch with ignored rows and counts only real targets', () => {
    const data = rows(5, 4, (r) => r); // row 0 counts nothing
    const batches = evalBatches(data, 2, 9);
    expect(batches).toHaveLength(3);
    expect(batches.map((b) => b.targets.filter((t) => t !== IGNORE_INDEX).length)).toEqual([1, 5, 4]);
    const last = batches[2];
    expect([...last.ids.subarray(4)]).toEqual([9, 9, 9, 9]);
    expect([...last.targets.subarray(4)]).toEqual([IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX]);
  });
  it('leaves out batches with nothing to count', () => {
    expect(evalBatches(rows(2, 3, () => 0), 1, 0)).toEqual([]);
  });
});

describe('checkpointInterval', () => {
  it('saves about ten checkpoints per run, at least every 25 steps and at most every step', () => {
    expect(checkpointInterval(12)).toBe(2);
    expect(checkpointInterval(200)).toBe(20);
    expect(checkpointInterval(5000)).toBe(25);
    expect(checkpointInterval(3)).toBe(1);
  });
});

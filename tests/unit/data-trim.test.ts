// No compute on padding (data/batches.ts): a batch is cut to its longest row's last counted target,
// rounded up to a power-of-two bucket, every micro-batch of a step to the same length; what is kept
// is each row's first positions, unchanged; tokens/s counts only the positions the loss depends on.
import { describe, expect, it } from 'vitest';
import { IGNORE_INDEX, type PackedRows } from '../../src/lib/data/pack.ts';
import { bucketLength, MIN_BUCKET, realTokens, rowBatches, stepBatches, trimBatches } from '../../src/lib/data/batches.ts';

/** n rows of T positions; row r has counted(r) counted targets at its start. */
function rows(n: number, T: number, counted: (r: number) => number): PackedRows {
  const inputIds = new Int32Array(n * T);
  const targets = new Int32Array(n * T).fill(IGNORE_INDEX);
  for (let r = 0; r < n; r++) {
    for (let t = 0; t < T; t++) inputIds[r * T + t] = 1000 * r + t;
    for (let t = 0; t < counted(r); t++) targets[r * T + t] = 1000 * r + t + 1;
  }
  const countedPerRow = Int32Array.from({ length: n }, (_, r) => counted(r));
  return { T, rows: n, inputIds, targets, countedPerRow, countedTokens: countedPerRow.reduce((a, b) => a + b, 0), warnings: [], leftOut: [] };
}

describe('bucketLength', () => {
  it('rounds up to a power of two from MIN_BUCKET, never past T', () => {
    expect(MIN_BUCKET).toBe(16);
    expect([0, 1, 16, 17, 23, 32, 33, 100, 128].map((n) => bucketLength(n, 128))).toEqual([16, 16, 16, 32, 32, 32, 64, 128, 128]);
    expect(bucketLength(90, 100)).toBe(100);
    expect(bucketLength(3, 8)).toBe(8);
  });
});

describe('trimming batches', () => {
  it('cuts every micro-batch of a step to the bucket of the longest row, keeping each row’s first positions', () => {
    // Row r counts 5 + 3r targets: at most 23 of 128 positions (the QA file).
    const data = rows(7, 128, (r) => 5 + 3 * r);
    for (let step = 0; step < 4; step++) {
      const batches = stepBatches(data, 2, 3, 1, step);
      const longest = Math.max(...batches.flatMap((b) => Array.from({ length: b.B }, (_, i) => b.targets.subarray(i * b.T, (i + 1) * b.T).filter((x) => x !== IGNORE_INDEX).length)));
      const T = batches[0].T;
      expect(batches.every((b) => b.T === T && b.B === 2)).toBe(true);
      expect(T).toBe(bucketLength(longest, 128));
      for (const b of batches) {
        for (let i = 0; i < b.B; i++) {
          const id0 = b.ids[i * T];
          const r = id0 / 1000;
          expect(Array.from(b.ids.subarray(i * T, (i + 1) * T))).toEqual(Array.from(data.inputIds.subarray(r * 128, r * 128 + T)));
          expect(Array.from(b.targets.subarray(i * T, (i + 1) * T))).toEqual(Array.from(data.targets.subarray(r * 128, r * 128 + T)));
          // Nothing counted is cut off.
          expect(data.targets.subarray(r * 128 + T, (r + 1) * 128).every((x) => x === IGNORE_INDEX)).toBe(true);
        }
      }
    }
  });

  it('keeps full rows whole, and cuts held-out and per-row batches too', () => {
    expect(stepBatches(rows(4, 64, () => 64), 2, 1, 0, 0)[0].T).toBe(64);
    const data = rows(5, 64, (r) => (r === 4 ? 40 : 3));
    expect(rowBatches(data, 2, 0).map((b) => b.T)).toEqual([16, 16, 64]);
  });

  it('counts real tokens: each row up to its last counted target', () => {
    const data = rows(3, 32, (r) => [4, 0, 9][r]);
    const [batch] = rowBatches(data, 3, 0);
    expect(realTokens(batch)).toBe(4 + 0 + 9);
    expect(realTokens(trimBatches([{ ...batch }])[0])).toBe(13);
  });

  it('refuses micro-batches of different lengths', () => {
    const a = rowBatches(rows(1, 16, () => 2), 1, 0)[0];
    const b = rowBatches(rows(1, 32, () => 20), 1, 0)[0];
    expect(() => trimBatches([a, b])).toThrow(/batches of 32 and 16 positions/);
  });
});

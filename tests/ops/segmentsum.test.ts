// Per-row sums of the loss head's compacted per-token losses (and each row's count), and the backward
// that hands every token its row's gradient.
import { describe, expect, it } from 'vitest';
import { expectClose, expectReferenceGradients, input, randF32, runOp, TOL, useGpu, zeros } from '../helpers/op-test.ts';
import { createRng } from '../../src/lib/random.ts';
import * as ref from '../../src/lib/ops/segmentsum/reference.ts';
import { segmentSumBackward, segmentSumForward } from '../../src/lib/ops/segmentsum/segmentsum.ts';

const gpu = useGpu();

/** Ascending flat positions b·T+t of the counted tokens: about `share` of each row, some rows empty. */
function countedRows(R: number, T: number, share: number, seed: number, empty: number[] = []): Int32Array {
  const rand = createRng(seed);
  const out: number[] = [];
  for (let r = 0; r < R; r++) {
    if (empty.includes(r)) continue;
    for (let t = 0; t < T; t++) if (rand() < share) out.push(r * T + t);
  }
  return Int32Array.from(out);
}

describe('segment sum reference (float64)', () => {
  it('gradients match central differences', () => {
    const rows = countedRows(4, 9, 0.5, 1, [2]);
    expectReferenceGradients(
      ([x]) => ref.forward(x, rows, 4, 9),
      (dout, cache) => [ref.backward(dout, cache).dlosses],
      [randF32(rows.length, 2)],
    );
  });

  it('sums and counts each row, with zeros for a row with no counted token', () => {
    const rows = Int32Array.of(1, 2, 7, 8, 9); // T = 5: row 0 has positions 1, 2; row 1 has 7, 8, 9; row 2 none
    const r = ref.forward(Float64Array.of(1, 2, 3, 4, 5), rows, 3, 5);
    expect(Array.from(r.out)).toEqual([3, 12, 0]);
    expect(Array.from(r.counts)).toEqual([2, 3, 0]);
  });
});

describe('segment sum on the GPU', () => {
  // R rows of T positions: one row; rows longer than a workgroup (64) with many tokens; an empty row
  // first and last; many rows of few tokens.
  const CASES: [number, number, number, number[]][] = [
    [1, 1, 1, []],
    [2, 300, 0.9, []],
    [6, 40, 0.4, [0, 5]],
    [64, 17, 0.2, [3]],
  ];

  it.each(CASES)('forward and backward match the reference at R=%i T=%i', async (R, T, share, empty) => {
    const rows = countedRows(R, T, share, 10 + R, empty);
    const M = rows.length;
    const losses = randF32(M, 11).map(Math.abs);
    const dsums = randF32(R, 12);
    const got = await runOp(
      gpu(),
      {
        sums: zeros([R]),
        counts: input(new Float64Array(R).fill(7), [R]),
        dlosses: zeros([M]),
        losses: input(losses, [M]),
        rows: input(rows, [M], 'i32'),
        dsums: input(dsums, [R]),
      },
      (rec, t) => {
        segmentSumForward(rec, t.sums, t.counts, t.losses, t.rows, T);
        segmentSumBackward(rec, t.dlosses, t.dsums, t.rows, T);
      },
    );
    const want = ref.forward(losses, rows, R, T);
    expectClose(got.sums, want.out, TOL.reduction, 'row sums');
    expect(Array.from(got.counts)).toEqual(Array.from(want.counts));
    expect(Array.from(got.dlosses)).toEqual(Array.from(ref.backward(Float64Array.from(Float32Array.from(dsums)), want.cache).dlosses));
  });
});

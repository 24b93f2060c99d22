// The reward model's head: each row's reward is its last token's final hidden state times
// score.weight; the backward reaches only those hidden states and the weight.
import { describe, expect, it } from 'vitest';
import { expectClose, expectReferenceGradients, input, randF32, runOp, TOL, useGpu, zeros } from '../helpers/op-test.ts';
import * as ref from '../../src/lib/ops/score/reference.ts';
import { scoreBackward, scoreForward } from '../../src/lib/ops/score/score.ts';

const gpu = useGpu();

/** R rows of T positions: row r's last token at a position of its own, −1 for the rows in `padding`. */
function lastTokens(R: number, T: number, padding: number[] = []): Int32Array {
  return Int32Array.from({ length: R }, (_, r) => (padding.includes(r) ? -1 : r * T + ((r * 7 + 3) % T)));
}

describe('score head reference (float64)', () => {
  it('gradients of the hidden states and the weight match central differences (a padding row included)', () => {
    const last = lastTokens(3, 4, [1]);
    expectReferenceGradients(
      ([x, w]) => ref.forward(x, w, last),
      (dout, cache) => {
        const g = ref.backward(dout, cache);
        return [g.dinp, g.dweight];
      },
      [randF32(3 * 4 * 5, 1), randF32(5, 2)],
    );
  });

  it('reads only the last token of each row, and a row without one scores 0 and does not count', () => {
    // T = 2, C = 2: row 0's last token at position 1, row 1 has none
    const inp = Float64Array.of(9, 9, 1, 2, 9, 9, 9, 9);
    const r = ref.forward(inp, Float64Array.of(3, -1), Int32Array.of(1, -1));
    expect(Array.from(r.out)).toEqual([1 * 3 + 2 * -1, 0]);
    expect(Array.from(r.counts)).toEqual([1, 0]);
    const g = ref.backward(Float64Array.of(2, 5), r.cache);
    expect(Array.from(g.dinp)).toEqual([0, 0, 6, -2, 0, 0, 0, 0]);
    expect(Array.from(g.dweight)).toEqual([2, 4]);
  });
});

describe('score head on the GPU', () => {
  // one row; a hidden size wider than a workgroup with padding rows; more rows than a workgroup
  const CASES: [number, number, number, number[]][] = [
    [1, 1, 3, []],
    [6, 9, 300, [2, 5]],
    [80, 3, 32, [0]],
  ];

  it.each(CASES)('forward and backward (added to what is there) match the reference at R=%i T=%i C=%i', async (R, T, C, padding) => {
    const last = lastTokens(R, T, padding);
    const x = randF32(R * T * C, 10 + R);
    const w = randF32(C, 11);
    const dout = randF32(R, 12);
    const dinp0 = randF32(R * T * C, 13);
    const dw0 = randF32(C, 14);
    const got = await runOp(
      gpu(),
      {
        out: zeros([R]),
        counts: input(new Float64Array(R).fill(7), [R]),
        dinp: input(dinp0, [R * T, C]),
        dweight: input(dw0, [C]),
        inp: input(x, [R * T, C]),
        weight: input(w, [C]),
        last: input(last, [R], 'i32'),
        dout: input(dout, [R]),
      },
      (rec, t) => {
        scoreForward(rec, t.out, t.counts, t.inp, t.weight, t.last);
        scoreBackward(rec, t.dinp, t.dweight, t.dout, t.inp, t.weight, t.last);
      },
    );
    const want = ref.forward(x, w, last);
    const g = ref.backward(dout, want.cache);
    expectClose(got.out, want.out, TOL.reduction, 'rewards');
    expect(Array.from(got.counts)).toEqual(Array.from(want.counts));
    expectClose(got.dinp, dinp0.map((v, i) => v + g.dinp[i]), TOL.elementwise, 'dinp');
    expectClose(got.dweight, dw0.map((v, i) => v + g.dweight[i]), TOL.reduction, 'dweight');
  });
});

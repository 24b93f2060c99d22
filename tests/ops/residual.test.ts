// Residual add: out = inp1 + inp2; backward sends dout to both inputs (accumulating by default).
import { describe, expect, it } from 'vitest';
import { gradcheck, randn } from '../helpers/gradcheck.ts';
import { expectClose, expectGradcheck, input, randF32, runOp, TOL, useGpu, zeros } from '../helpers/op-test.ts';
import * as ref from '../../src/lib/ops/residual/reference.ts';
import { residualBackward, residualForward } from '../../src/lib/ops/residual/residual.ts';

const gpu = useGpu();

// N = B·T·C; 1 and 257 straddle the 256-wide workgroup, 3·5·7 is nothing in particular.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 1, 257],
  [3, 5, 7],
  [2, 64, 96],
];

describe('residual reference', () => {
  it('gradients match central differences', () => {
    const a = randn(40, 1);
    const b = randn(40, 2);
    const r = gradcheck(
      ([x, y]) => ref.forward(x, y).out,
      (dout) => {
        const g = ref.backward(dout, ref.forward(a, b).cache);
        return [g.dinp1, g.dinp2];
      },
      [a, b],
    );
    expectGradcheck(r);
  });
});

describe('residual on the GPU', () => {
  it.each(SHAPES)('forward matches the reference at B=%i T=%i C=%i', async (B, T, C) => {
    const shape = [B, T, C];
    const n = B * T * C;
    const a = randF32(n, 10);
    const b = randF32(n, 11);
    const got = await runOp(gpu(), { out: zeros(shape), a: input(a, shape), b: input(b, shape) }, (rec, t) =>
      residualForward(rec, t.out, t.a, t.b),
    );
    expectClose(got.out, ref.forward(a, b).out, TOL.elementwise, 'residual forward');
  });

  it.each(SHAPES)('backward adds dout into both gradients at B=%i T=%i C=%i', async (B, T, C) => {
    const shape = [B, T, C];
    const n = B * T * C;
    const dout = randF32(n, 20);
    const d1 = randF32(n, 21); // gradients already holding another path's contribution
    const d2 = randF32(n, 22);
    const got = await runOp(
      gpu(),
      { dinp1: input(d1, shape), dinp2: input(d2, shape), dout: input(dout, shape) },
      (rec, t) => residualBackward(rec, t.dinp1, t.dinp2, t.dout),
    );
    const g = ref.backward(dout, ref.forward(d1, d2).cache);
    expectClose(got.dinp1, d1.map((x, i) => x + g.dinp1[i]), TOL.elementwise, 'dinp1');
    expectClose(got.dinp2, d2.map((x, i) => x + g.dinp2[i]), TOL.elementwise, 'dinp2');
  });

  it('backward with accumulate: false overwrites the gradients', async () => {
    const shape = [2, 3, 50];
    const dout = randF32(300, 30);
    const got = await runOp(
      gpu(),
      { dinp1: input(randF32(300, 31), shape), dinp2: input(randF32(300, 32), shape), dout: input(dout, shape) },
      (rec, t) => residualBackward(rec, t.dinp1, t.dinp2, t.dout, { accumulate: false }),
    );
    expect(Array.from(got.dinp1)).toEqual(Array.from(dout));
    expect(Array.from(got.dinp2)).toEqual(Array.from(dout));
  });

  it('many shapes in one command buffer share one pipeline', async () => {
    const g = gpu();
    const before = g.pipelines.size;
    // Two forwards of different sizes in one Recorder: each gets its own Params slot.
    const a = randF32(1000, 40);
    const b = randF32(1000, 41);
    const got = await runOp(
      g,
      { small: zeros([10]), big: zeros([1000]), a: input(a, [1000]), b: input(b, [1000]) },
      (rec, t) => {
        residualForward(rec, t.big, t.a, t.b);
        residualForward(rec, t.small, { ...t.a, shape: [10] }, { ...t.b, shape: [10] });
      },
    );
    const want = ref.forward(a, b).out;
    expectClose(got.big, want, TOL.elementwise, 'big');
    expectClose(got.small, want.slice(0, 10), TOL.elementwise, 'small');
    expect(g.pipelines.size - before).toBeLessThanOrEqual(1);
  });
});

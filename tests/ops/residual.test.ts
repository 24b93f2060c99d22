// Residual add: out = inp1 + inp2; its gradient is dout for both inputs (the reference's backward,
// gradient-checked here; the model needs no kernel for it).
import { describe, expect, it } from 'vitest';
import { expectClose, expectReferenceGradients, input, randF32, randn, runOp, TOL, useGpu, zeros } from '../helpers/op-test.ts';
import * as ref from '../../src/lib/ops/residual/reference.ts';
import { residualForward } from '../../src/lib/ops/residual/residual.ts';

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
    expectReferenceGradients(
      ([x, y]) => ref.forward(x, y),
      (dout, cache) => {
        const g = ref.backward(dout, cache);
        return [g.dinp1, g.dinp2];
      },
      [randn(40, 1), randn(40, 2)],
    );
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

// RMSNorm (Llama): out = x·rstd·weight with rstd = 1/sqrt(mean(x²)+eps); backward to x and weight.
import { describe, expect, it } from 'vitest';
import { gradcheck, randn } from '../helpers/gradcheck.ts';
import { expectClose, expectGradcheck, input, randF32, runOp, TOL, useGpu, zeros } from '../helpers/op-test.ts';
import * as ref from '../../src/lib/ops/rmsnorm/reference.ts';
import { rmsnormBackward, rmsnormForward } from '../../src/lib/ops/rmsnorm/rmsnorm.ts';

const gpu = useGpu();
const EPS = 1e-5;

// C = 1, 7 and 130 fall short of / just past the 128-wide workgroup; 576 is SmolLM2-135M's hidden size.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [2, 3, 7],
  [3, 5, 130],
  [2, 33, 576],
];

describe('rmsnorm reference (float64)', () => {
  it.each([
    [2, 3, 7],
    [1, 4, 16],
  ])('gradients match central differences: B=%i T=%i C=%i', (B, T, C) => {
    const inputs = [randn(B * T * C, 1), randn(C, 2)];
    const r = gradcheck(
      ([inp, weight]) => ref.forward(inp, weight, B, T, C, EPS).out,
      (dout) => {
        const g = ref.backward(dout, ref.forward(inputs[0], inputs[1], B, T, C, EPS).cache);
        return [g.dinp, g.dweight];
      },
      inputs,
      { maxPerInput: 1000 },
    );
    expect(r.checked).toBe(B * T * C + C);
    expectGradcheck(r, 1e-7);
  });

  it('each row comes out with unit root-mean-square before the weight', () => {
    const C = 9;
    const { out } = ref.forward(randn(3 * C, 3, 5), new Float64Array(C).fill(1), 1, 3, C, 0);
    for (let row = 0; row < 3; row++) {
      let ss = 0;
      for (let i = 0; i < C; i++) ss += out[row * C + i] ** 2;
      expect(Math.sqrt(ss / C)).toBeCloseTo(1, 12);
    }
  });
});

describe('rmsnorm on the GPU', () => {
  it.each(SHAPES)('forward matches the reference at B=%i T=%i C=%i', async (B, T, C) => {
    const x = randF32(B * T * C, 10, 2);
    const w = randF32(C, 11);
    const got = await runOp(
      gpu(),
      { out: zeros([B, T, C]), rstd: zeros([B, T]), inp: input(x, [B, T, C]), weight: input(w, [C]) },
      (rec, t) => rmsnormForward(rec, t.out, t.rstd, t.inp, t.weight, EPS),
    );
    const want = ref.forward(x, w, B, T, C, EPS);
    expectClose(got.out, want.out, TOL.elementwise, 'rmsnorm out');
    expectClose(got.rstd, want.cache.rstd, TOL.elementwise, 'rmsnorm rstd');
    expect(Array.from(got.inp)).toEqual(Array.from(x));
  });

  it.each(SHAPES)('backward accumulates dinp and dweight at B=%i T=%i C=%i', async (B, T, C) => {
    const x = randF32(B * T * C, 20, 2);
    const w = randF32(C, 21);
    const dout = randF32(B * T * C, 22);
    const dinp0 = randF32(B * T * C, 23); // another path's gradient already in place
    const dweight0 = randF32(C, 24);
    const fwd = ref.forward(x, w, B, T, C, EPS);
    const got = await runOp(
      gpu(),
      {
        dinp: input(dinp0, [B, T, C]),
        dweight: input(dweight0, [C]),
        dout: input(dout, [B, T, C]),
        inp: input(x, [B, T, C]),
        weight: input(w, [C]),
        rstd: input(fwd.cache.rstd, [B, T]),
      },
      (rec, t) => rmsnormBackward(rec, t.dinp, t.dweight, t.dout, t.inp, t.weight, t.rstd),
    );
    const g = ref.backward(dout, fwd.cache);
    expectClose(got.dinp, g.dinp.map((d, i) => d + dinp0[i]), TOL.reduction, 'rmsnorm dinp');
    expectClose(got.dweight, g.dweight.map((d, i) => d + dweight0[i]), TOL.reduction, 'rmsnorm dweight');
  });

  it('backward with accumulate: false overwrites, and skips dweight when it is null', async () => {
    const [B, T, C] = [3, 4, 50];
    const x = randF32(B * T * C, 30);
    const w = randF32(C, 31);
    const dout = randF32(B * T * C, 32);
    const fwd = ref.forward(x, w, B, T, C, EPS);
    const got = await runOp(
      gpu(),
      {
        dinp: input(randF32(B * T * C, 33), [B, T, C]),
        dout: input(dout, [B, T, C]),
        inp: input(x, [B, T, C]),
        weight: input(w, [C]),
        rstd: input(fwd.cache.rstd, [B, T]),
      },
      (rec, t) => rmsnormBackward(rec, t.dinp, null, t.dout, t.inp, t.weight, t.rstd, { accumulate: false }),
    );
    expectClose(got.dinp, ref.backward(dout, fwd.cache).dinp, TOL.reduction, 'rmsnorm dinp');
  });
});

// LayerNorm (GPT-2): out = (x-mean)·rstd·weight + bias, mean and rstd saved; backward to x, weight, bias.
import { describe, expect, it } from 'vitest';
import { gradcheck, randn } from '../helpers/gradcheck.ts';
import { expectClose, expectGradcheck, input, randF32, runOp, TOL, useGpu, zeros } from '../helpers/op-test.ts';
import * as ref from '../../src/lib/ops/layernorm/reference.ts';
import { layernormBackward, layernormForward } from '../../src/lib/ops/layernorm/layernorm.ts';

const gpu = useGpu();
const EPS = 1e-5;

// C = 1, 7 and 130 fall short of / just past the 128-wide workgroup; 768 is GPT-2's width.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [2, 3, 7],
  [3, 5, 130],
  [2, 17, 768],
];

describe('layernorm reference (float64)', () => {
  it.each([
    [2, 3, 7],
    [1, 4, 16],
  ])('gradients match central differences: B=%i T=%i C=%i', (B, T, C) => {
    const inputs = [randn(B * T * C, 1, 2), randn(C, 2), randn(C, 3)];
    const r = gradcheck(
      ([inp, weight, bias]) => ref.forward(inp, weight, bias, B, T, C, EPS).out,
      (dout) => {
        const g = ref.backward(dout, ref.forward(inputs[0], inputs[1], inputs[2], B, T, C, EPS).cache);
        return [g.dinp, g.dweight, g.dbias];
      },
      inputs,
      { maxPerInput: 1000 },
    );
    expect(r.checked).toBe(B * T * C + 2 * C);
    expectGradcheck(r, 1e-7);
  });

  it('with unit weight and zero bias each row has mean 0 and variance 1', () => {
    const C = 11;
    const ones = new Float64Array(C).fill(1);
    const { out } = ref.forward(randn(2 * C, 4, 3), ones, new Float64Array(C), 1, 2, C, 0);
    for (let row = 0; row < 2; row++) {
      const x = out.subarray(row * C, row * C + C);
      const m = x.reduce((a, b) => a + b, 0) / C;
      const v = x.reduce((a, b) => a + (b - m) ** 2, 0) / C;
      expect(m).toBeCloseTo(0, 12);
      expect(v).toBeCloseTo(1, 12);
    }
  });
});

describe('layernorm on the GPU', () => {
  it.each(SHAPES)('forward matches the reference at B=%i T=%i C=%i', async (B, T, C) => {
    // an offset of 3 makes a naive E[x²]-E[x]² variance lose digits
    const x = randF32(B * T * C, 10, 2).map((v) => Math.fround(v + 3));
    const w = randF32(C, 11);
    const b = randF32(C, 12);
    const got = await runOp(
      gpu(),
      {
        out: zeros([B, T, C]),
        mean: zeros([B, T]),
        rstd: zeros([B, T]),
        inp: input(x, [B, T, C]),
        weight: input(w, [C]),
        bias: input(b, [C]),
      },
      (rec, t) => layernormForward(rec, t.out, t.mean, t.rstd, t.inp, t.weight, t.bias, EPS),
    );
    const want = ref.forward(x, w, b, B, T, C, EPS);
    expectClose(got.out, want.out, TOL.elementwise, 'layernorm out');
    expectClose(got.mean, want.cache.mean, TOL.elementwise, 'layernorm mean');
    expectClose(got.rstd, want.cache.rstd, TOL.elementwise, 'layernorm rstd');
  });

  it.each(SHAPES)('backward accumulates dinp, dweight, dbias at B=%i T=%i C=%i', async (B, T, C) => {
    const x = randF32(B * T * C, 20, 2);
    const w = randF32(C, 21);
    const b = randF32(C, 22);
    const dout = randF32(B * T * C, 23);
    const dinp0 = randF32(B * T * C, 24); // gradients already holding another contribution
    const dweight0 = randF32(C, 25);
    const dbias0 = randF32(C, 26);
    const fwd = ref.forward(x, w, b, B, T, C, EPS);
    const got = await runOp(
      gpu(),
      {
        dinp: input(dinp0, [B, T, C]),
        dweight: input(dweight0, [C]),
        dbias: input(dbias0, [C]),
        dout: input(dout, [B, T, C]),
        inp: input(x, [B, T, C]),
        weight: input(w, [C]),
        mean: input(fwd.cache.mean, [B, T]),
        rstd: input(fwd.cache.rstd, [B, T]),
      },
      (rec, t) => layernormBackward(rec, t.dinp, t.dweight, t.dbias, t.dout, t.inp, t.weight, t.mean, t.rstd),
    );
    const g = ref.backward(dout, fwd.cache);
    expectClose(got.dinp, g.dinp.map((d, i) => d + dinp0[i]), TOL.reduction, 'layernorm dinp');
    expectClose(got.dweight, g.dweight.map((d, i) => d + dweight0[i]), TOL.reduction, 'layernorm dweight');
    expectClose(got.dbias, g.dbias.map((d, i) => d + dbias0[i]), TOL.reduction, 'layernorm dbias');
  });

  it('backward with accumulate: false overwrites all three gradients', async () => {
    const [B, T, C] = [2, 5, 40];
    const x = randF32(B * T * C, 30);
    const w = randF32(C, 31);
    const dout = randF32(B * T * C, 32);
    const fwd = ref.forward(x, w, randF32(C, 33), B, T, C, EPS);
    const got = await runOp(
      gpu(),
      {
        dinp: input(randF32(B * T * C, 34), [B, T, C]),
        dweight: input(randF32(C, 35), [C]),
        dbias: input(randF32(C, 36), [C]),
        dout: input(dout, [B, T, C]),
        inp: input(x, [B, T, C]),
        weight: input(w, [C]),
        mean: input(fwd.cache.mean, [B, T]),
        rstd: input(fwd.cache.rstd, [B, T]),
      },
      (rec, t) =>
        layernormBackward(rec, t.dinp, t.dweight, t.dbias, t.dout, t.inp, t.weight, t.mean, t.rstd, {
          accumulate: false,
        }),
    );
    const g = ref.backward(dout, fwd.cache);
    expectClose(got.dinp, g.dinp, TOL.reduction, 'layernorm dinp');
    expectClose(got.dweight, g.dweight, TOL.reduction, 'layernorm dweight');
    expectClose(got.dbias, g.dbias, TOL.reduction, 'layernorm dbias');
  });
});

// Norms: LayerNorm (GPT-2) out = (x-mean)·rstd·weight + bias, and RMSNorm (Llama) out = x·rstd·weight,
// LayerNorm without the mean and the bias; one op, the variant an override. Backward to x, weight, bias.
import { describe, expect, it } from 'vitest';
import { expectClose, expectReferenceGradients, input, randF32, randn, runOp, TOL, useGpu, zeros } from '../helpers/op-test.ts';
import * as ref from '../../src/lib/ops/norm/reference.ts';
import { normBackward, normForward, type NormKind } from '../../src/lib/ops/norm/norm.ts';

const gpu = useGpu();
const EPS = 1e-5;
const KINDS: NormKind[] = ['layernorm', 'rmsnorm'];

// C = 1, 7 and 130 fall short of / just past the 128-wide workgroup; 576 is SmolLM2-135M's hidden
// size, 768 GPT-2's.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [2, 3, 7],
  [3, 5, 130],
  [2, 33, 576],
  [2, 17, 768],
];

describe.each(KINDS)('%s reference (float64)', (kind) => {
  const ln = kind === 'layernorm';

  it.each([
    [2, 3, 7],
    [1, 4, 16],
  ])('gradients match central differences: B=%i T=%i C=%i', (B, T, C) => {
    const inputs = [randn(B * T * C, 1, 2), randn(C, 2), ...(ln ? [randn(C, 3)] : [])];
    expectReferenceGradients(
      (x) => ref.forward(kind, x[0], x[1], ln ? x[2] : null, B, T, C, EPS),
      (dout, cache) => {
        const g = ref.backward(dout, cache);
        return [g.dinp, g.dweight, ...(ln ? [g.dbias] : [])];
      },
      inputs,
      { maxError: 1e-7 },
    );
  });

  it(ln ? 'with unit weight and zero bias each row has mean 0 and variance 1' : 'with unit weight each row has unit root-mean-square', () => {
    const C = 11;
    const { out } = ref.forward(kind, randn(2 * C, 4, 3), new Float64Array(C).fill(1), ln ? new Float64Array(C) : null, 1, 2, C, 0);
    for (let row = 0; row < 2; row++) {
      const x = out.subarray(row * C, row * C + C);
      const m = ln ? x.reduce((a, b) => a + b, 0) / C : 0;
      expect(m).toBeCloseTo(0, 12);
      expect(x.reduce((a, b) => a + (b - m) ** 2, 0) / C).toBeCloseTo(1, 12);
    }
  });
});

describe.each(KINDS)('%s on the GPU', (kind) => {
  const ln = kind === 'layernorm';
  /** mean, bias, dbias: LayerNorm's only (RMSNorm passes null) */
  const lnOnly = <T>(x: T): T | null => (ln ? x : null);

  it.each(SHAPES)('forward matches the reference at B=%i T=%i C=%i', async (B, T, C) => {
    // an offset of 3 makes a naive E[x²]-E[x]² variance lose digits
    const x = randF32(B * T * C, 10, 2).map((v) => Math.fround(v + 3));
    const w = randF32(C, 11);
    const b = randF32(C, 12);
    const got = await runOp(
      gpu(),
      { out: zeros([B, T, C]), mean: zeros([B, T]), rstd: zeros([B, T]), inp: input(x, [B, T, C]), weight: input(w, [C]), bias: input(b, [C]) },
      (rec, t) => normForward(rec, t.out, lnOnly(t.mean), t.rstd, t.inp, t.weight, lnOnly(t.bias), { kind, eps: EPS }),
    );
    const want = ref.forward(kind, x, w, lnOnly(b), B, T, C, EPS);
    expectClose(got.out, want.out, TOL.elementwise, `${kind} out`);
    expectClose(got.rstd, want.cache.rstd, TOL.elementwise, `${kind} rstd`);
    if (ln) expectClose(got.mean, want.cache.mean, TOL.elementwise, `${kind} mean`);
    expect(Array.from(got.inp)).toEqual(Array.from(x));
  });

  it.each(SHAPES)('backward accumulates dinp, dweight (and dbias) at B=%i T=%i C=%i', async (B, T, C) => {
    const x = randF32(B * T * C, 20, 2);
    const w = randF32(C, 21);
    const dout = randF32(B * T * C, 23);
    // gradients already holding another contribution
    const [dinp0, dweight0, dbias0] = [randF32(B * T * C, 24), randF32(C, 25), randF32(C, 26)];
    const fwd = ref.forward(kind, x, w, lnOnly(randF32(C, 22)), B, T, C, EPS);
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
      (rec, t) => normBackward(rec, t.dinp, t.dweight, lnOnly(t.dbias), t.dout, t.inp, t.weight, lnOnly(t.mean), t.rstd, kind),
    );
    const g = ref.backward(dout, fwd.cache);
    expectClose(got.dinp, g.dinp.map((d, i) => d + dinp0[i]), TOL.reduction, `${kind} dinp`);
    expectClose(got.dweight, g.dweight.map((d, i) => d + dweight0[i]), TOL.reduction, `${kind} dweight`);
    if (ln) expectClose(got.dbias, g.dbias!.map((d, i) => d + dbias0[i]), TOL.reduction, `${kind} dbias`);
    else expect(Array.from(got.dbias)).toEqual(Array.from(dbias0));
  });

  it('backward with accumulate: false overwrites, and skips the parameter gradients when they are null', async () => {
    const [B, T, C] = [2, 5, 40];
    const x = randF32(B * T * C, 30);
    const dout = randF32(B * T * C, 32);
    const fwd = ref.forward(kind, x, randF32(C, 31), lnOnly(randF32(C, 33)), B, T, C, EPS);
    const tensors = {
      dinp: input(randF32(B * T * C, 34), [B, T, C]),
      dweight: input(randF32(C, 35), [C]),
      dbias: input(randF32(C, 36), [C]),
      dout: input(dout, [B, T, C]),
      inp: input(x, [B, T, C]),
      weight: input(fwd.cache.weight, [C]),
      mean: input(fwd.cache.mean, [B, T]),
      rstd: input(fwd.cache.rstd, [B, T]),
    };
    const g = ref.backward(dout, fwd.cache);
    const overwrite = await runOp(gpu(), tensors, (rec, t) =>
      normBackward(rec, t.dinp, t.dweight, lnOnly(t.dbias), t.dout, t.inp, t.weight, lnOnly(t.mean), t.rstd, kind, { accumulate: false }),
    );
    expectClose(overwrite.dinp, g.dinp, TOL.reduction, `${kind} dinp`);
    expectClose(overwrite.dweight, g.dweight, TOL.reduction, `${kind} dweight`);
    if (ln) expectClose(overwrite.dbias, g.dbias!, TOL.reduction, `${kind} dbias`);
    const frozen = await runOp(gpu(), tensors, (rec, t) =>
      normBackward(rec, t.dinp, null, null, t.dout, t.inp, t.weight, lnOnly(t.mean), t.rstd, kind, { accumulate: false }),
    );
    expectClose(frozen.dinp, g.dinp, TOL.reduction, `${kind} dinp`);
    expect(Array.from(frozen.dweight)).toEqual(Array.from(tensors.dweight.data));
  });
});

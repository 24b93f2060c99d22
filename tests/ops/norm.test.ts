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

  it('backward with accumulate: false overwrites dinp but still adds into dweight (and dbias), and skips them when they are null', async () => {
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
    // Parameter gradients add to what earlier micro-batches left (the final norm's backward is the
    // model's accumulate: false call, and full fine-tuning with gradient accumulation trains its weight).
    const plus = (a: ArrayLike<number>, b: ArrayLike<number>) => Float32Array.from(a, (v, i) => v + b[i]);
    expectClose(overwrite.dweight, plus(tensors.dweight.data, g.dweight), TOL.reduction, `${kind} dweight`);
    if (ln) expectClose(overwrite.dbias, plus(tensors.dbias.data, g.dbias!), TOL.reduction, `${kind} dbias`);
    const frozen = await runOp(gpu(), tensors, (rec, t) =>
      normBackward(rec, t.dinp, null, null, t.dout, t.inp, t.weight, lnOnly(t.mean), t.rstd, kind, { accumulate: false }),
    );
    expectClose(frozen.dinp, g.dinp, TOL.reduction, `${kind} dinp`);
    expect(Array.from(frozen.dweight)).toEqual(Array.from(tensors.dweight.data));
  });
});

// Qwen3's q/k norm (src/lib/model/qknorm.ts): RMSNorm over each head of q (B,T,NH,HS) and k
// (B,T,NKV,HS), the op run on the 4-d tensor as B·T·H rows of HS. Shapes: Qwen3-0.6B's q (16 heads
// of 128) and k (8 heads), and the tiny fixture's head size 24 (not a divisor of the 128-wide group).
describe('Qwen3 q/k norm: RMSNorm per head of (B,T,H,HS)', () => {
  const QK_EPS = 1e-6; // Qwen3's rms_norm_eps

  it.each([
    ['q', 2, 3, 4, 6],
    ['k', 2, 3, 2, 6],
  ])('reference gradients into %s and the norm weights match central differences (B=%i T=%i H=%i HS=%i)', (_, B, T, H, HS) => {
    expectReferenceGradients(
      (x) => ref.forward('rmsnorm', x[0], x[1], null, B * T, H, HS, QK_EPS),
      (dout, cache) => {
        const g = ref.backward(dout, cache);
        return [g.dinp, g.dweight];
      },
      [randn(B * T * H * HS, 41, 2), randn(HS, 42)],
      { maxError: 1e-7 },
    );
  });

  it.each([
    ['q', 2, 5, 16, 128],
    ['k', 2, 5, 8, 128],
    ['q', 2, 12, 4, 24],
    ['k', 2, 12, 2, 24],
  ])('%s forward and backward (input, weight gradients) match the reference at B=%i T=%i H=%i HS=%i', async (which, B, T, H, HS) => {
    const seed = which === 'q' ? 50 : 60;
    const x = randF32(B * T * H * HS, seed, 2);
    const w = randF32(HS, seed + 1).map((v) => Math.fround(1 + 0.1 * v));
    const dout = randF32(B * T * H * HS, seed + 2);
    const fwd = ref.forward('rmsnorm', x, w, null, B * T, H, HS, QK_EPS);
    const got = await runOp(
      gpu(),
      { out: zeros([B, T, H, HS]), rstd: zeros([B, T, H]), inp: input(x, [B, T, H, HS]), weight: input(w, [HS]) },
      (rec, t) => normForward(rec, t.out, null, t.rstd, t.inp, t.weight, null, { kind: 'rmsnorm', eps: QK_EPS }),
    );
    expectClose(got.out, fwd.out, TOL.elementwise, `${which} out`);
    expectClose(got.rstd, fwd.cache.rstd, TOL.elementwise, `${which} rstd per head`);
    // per head, not per token: with the weights divided out every head has unit root-mean-square
    for (let row = 0; row < B * T * H; row += 7) {
      let ss = 0;
      for (let i = 0; i < HS; i++) ss += (got.out[row * HS + i] / w[i]) ** 2;
      expect(Math.sqrt(ss / HS)).toBeCloseTo(1, 4);
    }
    // the model clears dq/dk and accumulates (qknorm.ts): dweight adds to what earlier micro-batches left
    const dweight0 = randF32(HS, seed + 3);
    const back = await runOp(
      gpu(),
      {
        dinp: zeros([B, T, H, HS]),
        dweight: input(dweight0, [HS]),
        dout: input(dout, [B, T, H, HS]),
        inp: input(x, [B, T, H, HS]),
        weight: input(w, [HS]),
        rstd: input(fwd.cache.rstd, [B, T, H]),
      },
      (rec, t) => normBackward(rec, t.dinp, t.dweight, null, t.dout, t.inp, t.weight, null, t.rstd, 'rmsnorm'),
    );
    const g = ref.backward(dout, fwd.cache);
    expectClose(back.dinp, g.dinp, TOL.reduction, `${which} dinp`);
    expectClose(back.dweight, g.dweight.map((d, i) => d + dweight0[i]), TOL.reduction, `${which} dweight`);
  });
});

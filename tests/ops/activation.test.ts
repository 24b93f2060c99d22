// Elementwise activations (relu, silu, gelu_tanh = GPT-2's gelu_new, gelu_erf = exact GELU), one op
// with the kind as a uniform.
import { describe, expect, it } from 'vitest';
import { expectClose, expectReferenceGradients, input, randF32, roundF32, runOp, TOL, useGpu, zeros } from '../helpers/op-test.ts';
import * as ref from '../../src/lib/ops/activation/reference.ts';
import { activationBackward, activationForward } from '../../src/lib/ops/activation/activation.ts';

const gpu = useGpu();
const KINDS: ref.ActivationKind[] = ['relu', 'silu', 'gelu_tanh', 'gelu_erf'];

/** seeded values of scale 3 with float32 over/underflow extremes and 0 at the front */
function values(n: number, seed: number): Float64Array {
  const x = randF32(n, seed, 3);
  x.set(roundF32([-100, 100, -44.5, 44.5, -9, 9, 0]).subarray(0, Math.min(7, n)));
  return x;
}

describe('activation reference (float64)', () => {
  it.each(KINDS)('%s: gradients match central differences', (kind) => {
    expectReferenceGradients(([inp]) => ref.forward(inp, kind), (dout, cache) => [ref.backward(dout, cache).dinp], [randF32(53, 1, 3)], { maxError: 1e-7 });
  });

  it('erf matches tabulated values (Abramowitz & Stegun table 7.1)', () => {
    expect(ref.erf(0)).toBe(0);
    expect(ref.erf(0.5)).toBeCloseTo(0.5204998778, 10);
    expect(ref.erf(1)).toBeCloseTo(0.8427007929, 10);
    expect(ref.erf(2)).toBeCloseTo(0.995322265, 10);
    expect(ref.erf(-1.5)).toBeCloseTo(-0.9661051465, 10);
    expect(ref.erf(3.5)).toBeCloseTo(0.9999992569, 10);
    // the series (|x| < 3) and the continued fraction (|x| >= 3) meet smoothly: the slope across the
    // switch is erf'(3) = 2/√π·e^(-9)
    const slope = (ref.erf(3.0001) - ref.erf(2.9999)) / 2e-4;
    expect(slope).toBeCloseTo((2 / Math.sqrt(Math.PI)) * Math.exp(-9), 9);
  });

  it('gelu_tanh and gelu_erf agree to the tanh approximation error, and differ', () => {
    const x = Float64Array.from({ length: 81 }, (_, i) => -4 + i * 0.1);
    const a = ref.forward(x, 'gelu_tanh').out;
    const b = ref.forward(x, 'gelu_erf').out;
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    expect(worst).toBeLessThan(1e-3);
    expect(worst).toBeGreaterThan(1e-5);
  });
});

describe('activation on the GPU', () => {
  // 1, 257 (just past a 256-wide workgroup), 2·9·3072 (GPT-2's MLP width)
  const CASES = KINDS.flatMap((kind) => [1, 257, 2 * 9 * 3072].map((n) => [kind, n] as [ref.ActivationKind, number]));

  it.each(CASES)('%s forward matches the reference for N=%i, extremes included', async (kind, n) => {
    const x = values(n, 10);
    const got = await runOp(gpu(), { out: zeros([n]), inp: input(x, [n]) }, (rec, t) =>
      activationForward(rec, t.out, t.inp, kind),
    );
    expectClose(got.out, ref.forward(x, kind).out, TOL.elementwise, `${kind} out`);
  });

  it.each(CASES)('%s backward accumulates dinp for N=%i', async (kind, n) => {
    const x = values(n, 20);
    const dout = randF32(n, 21);
    const dinp0 = randF32(n, 22);
    const got = await runOp(gpu(), { dinp: input(dinp0, [n]), dout: input(dout, [n]), inp: input(x, [n]) }, (rec, t) =>
      activationBackward(rec, t.dinp, t.dout, t.inp, kind),
    );
    const want = ref.backward(dout, ref.forward(x, kind).cache).dinp;
    expectClose(got.dinp, want.map((d, i) => d + dinp0[i]), TOL.elementwise, `${kind} dinp`);
  });

  it('backward with accumulate: false overwrites', async () => {
    const n = 100;
    const x = values(n, 30);
    const dout = randF32(n, 31);
    const got = await runOp(
      gpu(),
      { dinp: input(randF32(n, 32), [n]), dout: input(dout, [n]), inp: input(x, [n]) },
      (rec, t) => activationBackward(rec, t.dinp, t.dout, t.inp, 'gelu_tanh', { accumulate: false }),
    );
    expectClose(got.dinp, ref.backward(dout, ref.forward(x, 'gelu_tanh').cache).dinp, TOL.elementwise, 'dinp');
  });

  it('all four kinds share one forward pipeline', async () => {
    const g = gpu();
    const x = values(64, 40);
    const got = await runOp(
      g,
      { relu: zeros([64]), silu: zeros([64]), gelu_tanh: zeros([64]), gelu_erf: zeros([64]), inp: input(x, [64]) },
      (rec, t) => KINDS.forEach((k) => activationForward(rec, t[k], t.inp, k)),
    );
    for (const k of KINDS) expectClose(got[k], ref.forward(x, k).out, TOL.elementwise, k);
    const before = g.pipelines.size;
    await runOp(g, { out: zeros([64]), inp: input(x, [64]) }, (rec, t) => activationForward(rec, t.out, t.inp, 'silu'));
    expect(g.pipelines.size).toBe(before);
  });
});

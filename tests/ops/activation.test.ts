import { describe, expect, test } from 'vitest';
import { gradcheck, randn } from '../helpers/gradcheck.ts';
import * as ref from '../../src/lib/ops/activation/reference.ts';

const kinds: ref.ActivationKind[] = ['relu', 'silu', 'gelu_tanh', 'gelu_erf'];

describe('activation reference (float64)', () => {
  test.each(kinds)('%s: gradients match central differences', (kind) => {
    const inputs = [randn(53, 1, 3)];
    const r = gradcheck(
      ([inp]) => ref.forward(inp, kind).out,
      (dout) => [ref.backward(dout, ref.forward(inputs[0], kind).cache).dinp],
      inputs,
      { maxPerInput: 1000 },
    );
    expect(r.checked).toBe(53);
    expect(r.maxError).toBeLessThan(1e-7);
  });

  test('erf matches tabulated values (Abramowitz & Stegun table 7.1)', () => {
    expect(ref.erf(0)).toBe(0);
    expect(ref.erf(0.5)).toBeCloseTo(0.5204998778, 10);
    expect(ref.erf(1)).toBeCloseTo(0.8427007929, 10);
    expect(ref.erf(2)).toBeCloseTo(0.9953222650, 10);
    expect(ref.erf(-1.5)).toBeCloseTo(-0.9661051465, 10);
    expect(ref.erf(3.5)).toBeCloseTo(0.9999992569, 10);
    // the series (|x| < 3) and the continued fraction (|x| >= 3) meet smoothly: the slope across the
    // switch is erf'(3) = 2/√π·e^(-9)
    const slope = (ref.erf(3.0001) - ref.erf(2.9999)) / 2e-4;
    expect(slope).toBeCloseTo((2 / Math.sqrt(Math.PI)) * Math.exp(-9), 9);
  });

  test('gelu_tanh and gelu_erf agree to the tanh approximation error, and differ', () => {
    const x = Float64Array.from({ length: 81 }, (_, i) => -4 + i * 0.1);
    const a = ref.forward(x, 'gelu_tanh').out;
    const b = ref.forward(x, 'gelu_erf').out;
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    expect(worst).toBeLessThan(1e-3);
    expect(worst).toBeGreaterThan(1e-5);
  });
});

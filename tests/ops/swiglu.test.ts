import { describe, expect, test } from 'vitest';
import { gradcheck, randn } from '../helpers/gradcheck.ts';
import * as ref from '../../src/lib/ops/swiglu/reference.ts';

describe('swiglu reference (float64)', () => {
  test('gradients match central differences for gate and up', () => {
    const inputs = [randn(37, 1, 3), randn(37, 2)];
    const r = gradcheck(
      ([gate, up]) => ref.forward(gate, up).out,
      (dout) => {
        const g = ref.backward(dout, ref.forward(inputs[0], inputs[1]).cache);
        return [g.dgate, g.dup];
      },
      inputs,
      { maxPerInput: 1000 },
    );
    expect(r.checked).toBe(74);
    expect(r.maxError).toBeLessThan(1e-7);
  });

  test('is silu(gate)·up', () => {
    const { out } = ref.forward(Float64Array.of(0, 2, -30), Float64Array.of(5, 3, 1));
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo((2 / (1 + Math.exp(-2))) * 3, 14);
    expect(Math.abs(out[2])).toBeLessThan(1e-11);
  });
});

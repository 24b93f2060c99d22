import { describe, expect, test } from 'vitest';
import { gradcheck, randn } from '../helpers/gradcheck.ts';
import * as ref from '../../src/lib/ops/rmsnorm/reference.ts';

describe('rmsnorm reference (float64)', () => {
  test.each([
    [2, 3, 7],
    [1, 4, 16],
  ])('gradients match central differences: B=%i T=%i C=%i', (B, T, C) => {
    const inputs = [randn(B * T * C, 1), randn(C, 2)];
    const r = gradcheck(
      ([inp, weight]) => ref.forward(inp, weight, B, T, C, 1e-5).out,
      (dout) => {
        const g = ref.backward(dout, ref.forward(inputs[0], inputs[1], B, T, C, 1e-5).cache);
        return [g.dinp, g.dweight];
      },
      inputs,
      { maxPerInput: 1000 },
    );
    expect(r.checked).toBe(B * T * C + C);
    expect(r.maxError).toBeLessThan(1e-7);
  });

  test('each row comes out with unit root-mean-square before the weight', () => {
    const C = 9;
    const { out } = ref.forward(randn(3 * C, 3, 5), new Float64Array(C).fill(1), 1, 3, C, 0);
    for (let row = 0; row < 3; row++) {
      let ss = 0;
      for (let i = 0; i < C; i++) ss += out[row * C + i] ** 2;
      expect(Math.sqrt(ss / C)).toBeCloseTo(1, 12);
    }
  });
});

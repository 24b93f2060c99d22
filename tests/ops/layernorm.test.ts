import { describe, expect, test } from 'vitest';
import { gradcheck, randn } from '../helpers/gradcheck.ts';
import * as ref from '../../src/lib/ops/layernorm/reference.ts';

describe('layernorm reference (float64)', () => {
  test.each([
    [2, 3, 7],
    [1, 4, 16],
  ])('gradients match central differences: B=%i T=%i C=%i', (B, T, C) => {
    const inputs = [randn(B * T * C, 1, 2), randn(C, 2), randn(C, 3)];
    const r = gradcheck(
      ([inp, weight, bias]) => ref.forward(inp, weight, bias, B, T, C, 1e-5).out,
      (dout) => {
        const g = ref.backward(dout, ref.forward(inputs[0], inputs[1], inputs[2], B, T, C, 1e-5).cache);
        return [g.dinp, g.dweight, g.dbias];
      },
      inputs,
      { maxPerInput: 1000 },
    );
    expect(r.checked).toBe(B * T * C + 2 * C);
    expect(r.maxError).toBeLessThan(1e-7);
  });

  test('with unit weight and zero bias each row has mean 0 and variance 1', () => {
    const C = 11;
    const { out, cache } = ref.forward(
      randn(2 * C, 4, 3),
      new Float64Array(C).fill(1),
      new Float64Array(C),
      1,
      2,
      C,
      0,
    );
    for (let row = 0; row < 2; row++) {
      const x = out.subarray(row * C, row * C + C);
      const m = x.reduce((a, b) => a + b, 0) / C;
      const v = x.reduce((a, b) => a + (b - m) ** 2, 0) / C;
      expect(m).toBeCloseTo(0, 12);
      expect(v).toBeCloseTo(1, 12);
      expect(cache.rstd[row]).toBeGreaterThan(0);
    }
  });
});

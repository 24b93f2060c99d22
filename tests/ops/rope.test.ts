import { describe, expect, test } from 'vitest';
import { gradcheck, randn } from '../helpers/gradcheck.ts';
import * as ref from '../../src/lib/ops/rope/reference.ts';

describe('rope reference (float64)', () => {
  test.each([
    [2, 3, 2, 8, 10000, 0],
    [1, 4, 3, 6, 100000, 5],
  ])('gradients match central differences: B=%i T=%i NH=%i HS=%i theta=%d offset=%i', (B, T, NH, HS, theta, offset) => {
    const positions = Int32Array.from({ length: B * T }, (_, i) => (i % T) * 2 + 1);
    const inputs = [randn(B * T * NH * HS, 1)];
    const r = gradcheck(
      ([inp]) => ref.forward(inp, positions, B, T, NH, HS, theta, offset).out,
      (dout) => [ref.backward(dout, ref.forward(inputs[0], positions, B, T, NH, HS, theta, offset).cache).dinp],
      inputs,
      { maxPerInput: 1000 },
    );
    expect(r.checked).toBe(B * T * NH * HS);
    expect(r.maxError).toBeLessThan(1e-7);
  });

  test('follows rotate_half: pairs (i, i+HS/2) rotate by p·theta^(-2i/HS), position 0 is the identity', () => {
    const HS = 4;
    const inp = Float64Array.of(1, 2, 3, 4, 1, 2, 3, 4); // (1,2,1,4): the same vector at two positions
    const { out } = ref.forward(inp, Int32Array.of(0, 3), 1, 2, 1, HS, 100, 0);
    expect(Array.from(out.subarray(0, 4))).toEqual([1, 2, 3, 4]);
    // pair (x0, x2) = (1, 3) turns by 3 rad; pair (x1, x3) = (2, 4) by 3·100^(-1/2) = 0.3 rad.
    const rot = (a: number, b: number, t: number) => [a * Math.cos(t) - b * Math.sin(t), b * Math.cos(t) + a * Math.sin(t)];
    const [o0, o2] = rot(1, 3, 3);
    const [o1, o3] = rot(2, 4, 0.3);
    [o0, o1, o2, o3].forEach((e, i) => expect(out[4 + i]).toBeCloseTo(e, 12));
  });

  test('an offset of P is the same as positions shifted by P (prefix tuning)', () => {
    const inp = randn(2 * 3 * 4, 9);
    const a = ref.forward(inp, Int32Array.of(0, 1, 2), 1, 3, 2, 4, 10000, 7).out;
    const b = ref.forward(inp, Int32Array.of(7, 8, 9), 1, 3, 2, 4, 10000, 0).out;
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

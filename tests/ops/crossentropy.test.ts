import { describe, expect, test } from 'vitest';
import { gradcheck, randn } from '../helpers/gradcheck.ts';
import * as ref from '../../src/lib/ops/crossentropy/reference.ts';

describe('crossentropy reference (float64)', () => {
  const B = 2;
  const T = 3;
  const V = 11;
  const targets = Int32Array.of(3, -100, 10, 0, -100, 7); // (B,T) with two ignored positions

  test('per-token loss gradients match central differences; ignored rows get none', () => {
    const inputs = [randn(B * T * V, 1, 3)];
    const r = gradcheck(
      ([logits]) => ref.forward(logits, targets, B, T, V).out,
      (dlosses) => [ref.backward(dlosses, ref.forward(inputs[0], targets, B, T, V).cache).dlogits],
      inputs,
      { maxPerInput: 1000 },
    );
    expect(r.checked).toBe(B * T * V);
    expect(r.maxError).toBeLessThan(1e-7);
  });

  test('mean over counted tokens: gradients of the composed loss match central differences', () => {
    const inputs = [randn(B * T * V, 2, 3)];
    const meanOf = (logits: Float64Array) => {
      const ce = ref.forward(logits, targets, B, T, V);
      return { ce, mean: ref.meanForward(ce.out, targets) };
    };
    const r = gradcheck(
      ([logits]) => meanOf(logits).mean.out.subarray(0, 1),
      (dout) => {
        const { ce, mean } = meanOf(inputs[0]);
        const { dlosses } = ref.meanBackward(dout[0], mean.cache);
        return [ref.backward(dlosses, ce.cache).dlogits];
      },
      inputs,
      { maxPerInput: 1000 },
    );
    expect(r.maxError).toBeLessThan(1e-7);
  });

  test('matches -log softmax at the target, counts only targets != -100', () => {
    const logits = randn(B * T * V, 3, 2);
    const { out } = ref.forward(logits, targets, B, T, V);
    const row = 2; // target 10
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(logits[row * V + v]);
    expect(out[row]).toBeCloseTo(-Math.log(Math.exp(logits[row * V + 10]) / z), 12);
    expect(out[1]).toBe(0);
    const mean = ref.meanForward(out, targets).out;
    expect(mean[1]).toBe(4);
    expect(mean[0]).toBeCloseTo((out[0] + out[2] + out[3] + out[5]) / 4, 14);
  });

  test('is stable for huge logits and gives NaN for a target outside [0,V) other than -100', () => {
    const logits = Float64Array.of(1000, 1001, 999, 5, 5, 5);
    const { out } = ref.forward(logits, Int32Array.of(1, 3), 1, 2, 3);
    expect(out[0]).toBeCloseTo(Math.log(Math.exp(-1) + 1 + Math.exp(-2)), 12);
    expect(out[1]).toBeNaN();
  });

  test('all tokens ignored: mean loss 0 over count 0, and zero gradients', () => {
    const none = new Int32Array(4).fill(-100);
    const ce = ref.forward(randn(4 * 5, 4), none, 2, 2, 5);
    const mean = ref.meanForward(ce.out, none);
    expect(Array.from(mean.out)).toEqual([0, 0]);
    const { dlosses } = ref.meanBackward(1, mean.cache);
    expect(ref.backward(dlosses, ce.cache).dlogits.every((g) => g === 0)).toBe(true);
  });
});

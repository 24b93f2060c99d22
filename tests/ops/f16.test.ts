// f16 → f32 decode (src/lib/ops/f16): the GPU kernel against the reference on half bit patterns,
// including ranges that start and end mid-word, subnormals, ±0, ±Infinity.
import { describe, expect, it } from 'vitest';
import { input, randF32, runOp, useGpu } from '../helpers/op-test.ts';
import * as ref from '../../src/lib/ops/f16/reference.ts';
import { decodeF16 } from '../../src/lib/ops/f16/f16.ts';
import { f32ToF16 } from '../../src/lib/model/safetensors-dtypes.ts';

const gpu = useGpu();

describe('f16 decode reference', () => {
  it('decodes known bit patterns at the given offsets', () => {
    const bits = Uint16Array.of(0x3c00, 0xc000, 0x0001, 0x7bff, 0x8000, 0xfc00);
    const out = ref.forward(new Float64Array(5).fill(9), bits, 4, 1, 2).out;
    expect(Array.from(out)).toEqual([9, 2 ** -24, 65504, -0, -Infinity]);
  });
});

describe('f16 decode on the GPU', () => {
  // (values in inp, n, outOffset, inOffset): whole tensors, odd counts, odd and even starts
  it.each([
    [1, 1, 0, 0],
    [7, 7, 0, 0],
    [1000, 999, 3, 1],
    [1000, 500, 0, 500],
    [4097, 4000, 11, 97],
  ])('matches the reference: %i halves, %i decoded to out[%i..] from inp[%i..]', async (size, n, outOffset, inOffset) => {
    const values = randF32(size, size, 3);
    // a few edge values among them: a subnormal, ±0, the largest half, an infinity
    values.set([2 ** -20, -0, 65504, -Infinity].slice(0, size), 0);
    const out0 = randF32(outOffset + n + 5, 2);
    const got = await runOp(gpu(), { out: input(out0, [out0.length]), inp: input(values, [size], 'f16') }, (rec, t) =>
      decodeF16(rec, t.out, t.inp, n, outOffset, inOffset),
    );
    const bits = f32ToF16(Float32Array.from(values)).bits;
    const want = ref.forward(out0, bits, n, outOffset, inOffset).out;
    expect(Array.from(got.out)).toEqual(Array.from(want));
  });

  it('refuses ranges past either tensor and non-f16 inputs', async () => {
    await expect(runOp(gpu(), { out: input([0, 0], [2]), inp: input([1, 2, 3], [3], 'f16') }, (rec, t) => decodeF16(rec, t.out, t.inp, 3))).rejects.toThrow(/overrun/);
    await expect(runOp(gpu(), { out: input([0, 0], [2]), inp: input([1, 2], [2]) }, (rec, t) => decodeF16(rec, t.out, t.inp, 2))).rejects.toThrow(/inp f16/);
  });
});

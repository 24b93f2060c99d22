// Dropout (PEFT's lora_dropout): out = inp · keep / (1 - p) with keep hashed from (seed, index); the
// backward is the same mask and scale on dout, added into dinp, by the same kernel.
import { describe, expect, it } from 'vitest';
import { expectClose, expectReferenceGradients, input, randF32, runOp, TOL, useGpu, zeros } from '../helpers/op-test.ts';
import * as ref from '../../src/lib/ops/dropout/reference.ts';
import { dropoutBackward, dropoutForward } from '../../src/lib/ops/dropout/dropout.ts';

const gpu = useGpu();

describe('dropout reference', () => {
  it('gradients match central differences (mask fixed by the seed)', () => {
    expectReferenceGradients(([inp]) => ref.forward(inp, 0.3, 7), (dout, cache) => [ref.backward(dout, cache).dinp], [randF32(40, 1)]);
  });

  it('keeps about 1-p of the elements, and another seed draws another mask', () => {
    const mask = ref.dropoutMask(10000, 42, 0.25);
    expect(Math.abs(mask.reduce((a, b) => a + b, 0) / 10000 - 0.75)).toBeLessThan(0.02);
    expect(ref.dropoutMask(10000, 43, 0.25)).not.toEqual(mask);
    expect(ref.dropoutMask(100, 42, 0).every((k) => k === 1)).toBe(true);
  });
});

describe('dropout on the GPU', () => {
  // 1, 257 (just past a 256-wide workgroup), 10000
  it.each([1, 257, 10000])('forward draws the reference mask and scale, N=%i', async (N) => {
    const x = randF32(N, 10);
    const got = await runOp(gpu(), { out: zeros([N]), inp: input(x, [N]) }, (rec, t) => dropoutForward(rec, t.out, t.inp, 0.25, 42));
    expectClose(got.out, ref.forward(x, 0.25, 42).out, TOL.elementwise, 'dropout out');
  });

  it.each([1, 257, 10000])('backward adds the masked, scaled dout into dinp, N=%i', async (N) => {
    const dout = randF32(N, 20);
    const dinp0 = randF32(N, 21); // another path's gradient already in place
    const got = await runOp(gpu(), { dinp: input(dinp0, [N]), dout: input(dout, [N]) }, (rec, t) =>
      dropoutBackward(rec, t.dinp, t.dout, 0.4, 9),
    );
    const g = ref.backward(dout, ref.forward(dout, 0.4, 9).cache).dinp;
    expectClose(got.dinp, g.map((d, i) => d + dinp0[i]), TOL.elementwise, 'dropout dinp');
  });
});

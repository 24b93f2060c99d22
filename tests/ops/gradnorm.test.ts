// Global gradient norm (torch clip_grad_norm_ semantics) and non-finite count, computed on the GPU
// into a 4-value stats tensor: [norm, clip scale, non-finite count, 0].
import { describe, expect, it } from 'vitest';
import { expectClose, input, randF32, runOp, TOL, useGpu, zeros } from '../helpers/op-test.ts';
import { gradStats } from '../../src/lib/ops/gradnorm/reference.ts';
import { gradNorm, STATS } from '../../src/lib/ops/gradnorm/gradnorm.ts';

const gpu = useGpu();

describe('gradnorm reference', () => {
  it('is the L2 norm, the torch clip coefficient, and a count of NaN/Inf', () => {
    expect(gradStats([3, 4], 0)).toEqual({ norm: 5, scale: 1, nonfinite: 0 });
    expect(gradStats([3, 4], 10)).toEqual({ norm: 5, scale: 1, nonfinite: 0 });
    expect(gradStats([3, 4], 1).scale).toBeCloseTo(1 / (5 + 1e-6), 12);
    expect(gradStats([3, NaN, 4, -Infinity], 0)).toEqual({ norm: 5, scale: 1, nonfinite: 2 });
  });
});

describe('gradnorm on the GPU', () => {
  // N around the 256-wide workgroup and the 1024-per-workgroup split, and one that needs the
  // grid-stride loop (more than 512 workgroups' worth).
  // maxNorm 0 disables clipping; 1e6 is above the norm (scale 1); 0.05 is below it.
  it.each([
    [1, 0.05],
    [255, 0],
    [1000, 0.05],
    [4097, 1e6],
    [600_001, 0.05],
  ])('norm and clip scale match the reference for N=%i, maxNorm=%d', async (N, maxNorm) => {
    const grads = randF32(N, N, 0.01);
    const got = await runOp(gpu(), { stats: zeros([4]), grads: input(grads, [N]) }, (rec, t) => gradNorm(rec, t.stats, t.grads, { maxNorm }));
    const want = gradStats(grads, maxNorm);
    expectClose([got.stats[STATS.norm]], [want.norm], TOL.reduction, 'norm');
    expectClose([got.stats[STATS.scale]], [want.scale], TOL.reduction, 'scale');
    expect(got.stats[STATS.nonfinite]).toBe(0);
  });

  it('counts NaN and Inf gradients and leaves them out of the norm', async () => {
    const N = 3000;
    const grads = randF32(N, 5);
    grads[7] = NaN;
    grads[1500] = Infinity;
    grads[2999] = -Infinity;
    const got = await runOp(gpu(), { stats: zeros([4]), grads: input(grads, [N]) }, (rec, t) => gradNorm(rec, t.stats, t.grads, { maxNorm: 1 }));
    const want = gradStats(grads, 1);
    expect(want.nonfinite).toBe(3);
    expect(got.stats[STATS.nonfinite]).toBe(3);
    expectClose([got.stats[STATS.norm]], [want.norm], TOL.reduction, 'norm');
  });

  it('is deterministic: bitwise identical norms across runs', async () => {
    const grads = randF32(200_000, 9);
    const run = () => runOp(gpu(), { stats: zeros([4]), grads: input(grads, [grads.length]) }, (rec, t) => gradNorm(rec, t.stats, t.grads));
    const [a, b] = [await run(), await run()];
    expect(Array.from(a.stats)).toEqual(Array.from(b.stats));
  });
});

// AdamW (torch.optim.AdamW): one dispatch over the flat trainable-parameter buffer, lr from the
// uniform, bias correction, decoupled weight decay; gradient clipping and NaN-skip from gradNorm.
import { describe, expect, it } from 'vitest';
import { expectClose, input, randF32, TOL, useGpu } from '../helpers/op-test.ts';
import { adamwStep as refStep, type AdamWHyper } from '../../src/lib/ops/adamw/reference.ts';
import { adamwStep } from '../../src/lib/ops/adamw/adamw.ts';
import { gradStats } from '../../src/lib/ops/gradnorm/reference.ts';
import { createGradStats, gradNorm } from '../../src/lib/ops/gradnorm/gradnorm.ts';
import { readTensors, Recorder, writeTensor, type Gpu } from '../../src/lib/gpu/index.ts';
import { uploadTensor } from '../helpers/gpu.ts';

const gpu = useGpu();
const H: AdamWHyper = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 };

/** Runs `steps` AdamW steps on the GPU and on the reference, with fresh seeded gradients each step. */
async function compareSteps(g: Gpu, N: number, steps: number, opts: { maxNorm?: number; lrs?: number[] } = {}) {
  let ref: { param: Float64Array; m: Float64Array; v: Float64Array } = { param: randF32(N, 1), m: new Float64Array(N), v: new Float64Array(N) };
  const t = {
    param: uploadTensor(g, ref.param, [N]),
    m: uploadTensor(g, ref.m, [N]),
    v: uploadTensor(g, ref.v, [N]),
    grad: uploadTensor(g, new Float64Array(N), [N]),
  };
  const stats = createGradStats(g);
  for (let step = 1; step <= steps; step++) {
    const grad = randF32(N, 100 + step, 0.5);
    const lr = opts.lrs?.[step - 1] ?? H.lr;
    writeTensor(g, t.grad, grad);
    const rec = new Recorder(g);
    if (opts.maxNorm !== undefined) gradNorm(rec, stats, t.grad, { maxNorm: opts.maxNorm });
    adamwStep(rec, t.param, t.m, t.v, t.grad, { ...H, lr, t: step, stats: opts.maxNorm !== undefined ? stats : undefined });
    rec.submit();
    const scale = opts.maxNorm !== undefined ? gradStats(grad, opts.maxNorm).scale : 1;
    ref = refStep(ref.param, grad, ref.m, ref.v, step, { ...H, lr }, scale);
  }
  const [param, m, v] = await readTensors(g, [t.param, t.m, t.v]);
  Object.values(t).forEach((x) => x.buffer.destroy());
  stats.buffer.destroy();
  return { got: { param, m, v }, want: ref };
}

describe('adamw reference', () => {
  it('first step moves each parameter by about lr against its gradient sign, after weight decay', () => {
    // Step 1: m̂ = g and v̂ = g², so the update is lr·g/(|g| + eps) ≈ lr·sign(g).
    const r = refStep(Float64Array.from([1, -2]), Float64Array.from([0.5, -3]), new Float64Array(2), new Float64Array(2), 1, H);
    expect(r.param[0]).toBeCloseTo(1 * (1 - 1e-3) - 1e-2, 7);
    expect(r.param[1]).toBeCloseTo(-2 * (1 - 1e-3) + 1e-2, 7);
    expect(r.m[0]).toBeCloseTo(0.05, 12);
    expect(r.v[1]).toBeCloseTo(0.009, 12);
  });
});

describe('adamw on the GPU', () => {
  it.each([1, 300, 5000])('five steps match the reference for N=%i', async (N) => {
    const { got, want } = await compareSteps(gpu(), N, 5, { lrs: [1e-2, 5e-3, 2e-2, 1e-3, 1e-2] });
    expectClose(got.m, want.m, TOL.elementwise, 'm');
    expectClose(got.v, want.v, TOL.elementwise, 'v');
    expectClose(got.param, want.param, TOL.elementwise, 'param');
  });

  it('scales gradients by the clip factor that gradNorm computed on the GPU', async () => {
    const { got, want } = await compareSteps(gpu(), 2000, 3, { maxNorm: 1 });
    expectClose(got.m, want.m, TOL.reduction, 'm');
    expectClose(got.param, want.param, TOL.elementwise, 'param');
  });

  it('skips the whole step when a gradient is NaN or Inf', async () => {
    const g = gpu();
    const N = 700;
    const param = randF32(N, 3);
    const m = randF32(N, 4, 0.1);
    const v = randF32(N, 5, 0.1).map(Math.abs);
    const grad = randF32(N, 6);
    grad[123] = NaN;
    const t = {
      param: uploadTensor(g, param, [N]),
      m: uploadTensor(g, m, [N]),
      v: uploadTensor(g, v, [N]),
      grad: uploadTensor(g, input(grad, [N]).data, [N]),
    };
    const stats = createGradStats(g);
    const rec = new Recorder(g);
    gradNorm(rec, stats, t.grad, { maxNorm: 1 });
    adamwStep(rec, t.param, t.m, t.v, t.grad, { ...H, t: 7, stats });
    rec.submit();
    const [p2, m2, v2, s] = await readTensors(g, [t.param, t.m, t.v, stats]);
    expect(s[2]).toBe(1);
    expect(Array.from(p2)).toEqual(Array.from(Float32Array.from(param)));
    expect(Array.from(m2)).toEqual(Array.from(Float32Array.from(m)));
    expect(Array.from(v2)).toEqual(Array.from(Float32Array.from(v)));
    Object.values(t).forEach((x) => x.buffer.destroy());
    stats.buffer.destroy();
  });
});

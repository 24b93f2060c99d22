// Softmax cross-entropy fused over the vocabulary with a -100 loss mask; the mean over counted tokens
// as one f32 on the GPU; the backward writes dlogits over the logits.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectClose, expectReferenceGradients, input, randF32, randInts, randn, runOp, TOL, useGpu, zeros } from '../helpers/op-test.ts';
import * as ref from '../../src/lib/ops/crossentropy/reference.ts';
import {
  crossentropyBackward,
  crossentropyForward,
  meanLossBackward,
  meanLossForward,
} from '../../src/lib/ops/crossentropy/crossentropy.ts';
import { parseSafetensors, tensorToFloat32 } from '../../src/lib/model/safetensors.ts';
import { i32 } from '../gpu/fixtures.ts';

const gpu = useGpu();

describe('crossentropy reference (float64)', () => {
  const [B, T, V] = [2, 3, 11];
  const targets = Int32Array.of(3, -100, 10, 0, -100, 7); // (B,T) with two ignored positions

  it('per-token loss gradients match central differences; ignored rows get none', () => {
    expectReferenceGradients(
      ([logits]) => ref.forward(logits, targets, B, T, V),
      (dlosses, cache) => [ref.backward(dlosses, cache).dlogits],
      [randn(B * T * V, 1, 3)],
      { maxError: 1e-7 },
    );
  });

  it('mean over counted tokens: gradients of the composed loss match central differences', () => {
    const meanOf = ([logits]: Float64Array[]) => {
      const ce = ref.forward(logits, targets, B, T, V);
      const mean = ref.meanForward(ce.out, targets);
      return { out: mean.out.subarray(0, 1), cache: { ce: ce.cache, mean: mean.cache } };
    };
    expectReferenceGradients(
      meanOf,
      (dout, cache) => [ref.backward(ref.meanBackward(dout[0], cache.mean).dlosses, cache.ce).dlogits],
      [randn(B * T * V, 2, 3)],
      { maxError: 1e-7 },
    );
  });

  it('matches -log softmax at the target and counts only targets != -100', () => {
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

  it('is stable for huge logits and gives NaN for a target outside [0,V) other than -100', () => {
    const { out } = ref.forward(Float64Array.of(1000, 1001, 999, 5, 5, 5), Int32Array.of(1, 3), 1, 2, 3);
    expect(out[0]).toBeCloseTo(Math.log(Math.exp(-1) + 1 + Math.exp(-2)), 12);
    expect(out[1]).toBeNaN();
  });
});

/**
 * Logits of scale 3 where every 4th row is shifted by +100: exp(100) overflows float32, so a kernel
 * that skipped the running max would give inf. (Larger shifts only measure float32's spacing at that
 * magnitude, 2^-17 at 1000, not the kernel.)
 */
function logitsFor(N: number, V: number, seed: number): Float64Array {
  const x = randF32(N * V, seed, 3);
  for (let row = 0; row < N; row += 4) for (let v = 0; v < V; v++) x[row * V + v] = Math.fround(x[row * V + v] + 100);
  return x;
}

/** Targets in [0,V) with every third one masked (-100). */
function targetsFor(N: number, V: number, seed: number): Int32Array {
  const t = randInts(N, V, seed);
  for (let i = 1; i < N; i += 3) t[i] = -100;
  return t;
}

/** A loss step's tensors: loss (2), per-token losses, lse and dlosses zeroed; logits and targets uploaded. */
function lossTensors(logits: Float64Array, targets: Int32Array, B: number, T: number, V: number) {
  return {
    loss: zeros([2]),
    losses: zeros([B, T]),
    lse: zeros([B, T]),
    dlosses: zeros([B, T]),
    logits: input(logits, [B, T, V]),
    targets: input(targets, [B, T], 'i32'),
  };
}

describe('crossentropy on the GPU', () => {
  // V below one workgroup (11), one workgroup's reach times 16 (4096), not a multiple (5000), GPT-2's 50257
  const SHAPES: [number, number, number][] = [
    [1, 1, 1],
    [2, 3, 11],
    [2, 5, 4096],
    [3, 4, 5000],
    [1, 3, 50257],
  ];

  it.each(SHAPES)('forward losses and lse match the reference at B=%i T=%i V=%i', async (B, T, V) => {
    const logits = logitsFor(B * T, V, 10);
    const targets = targetsFor(B * T, V, 11);
    const got = await runOp(
      gpu(),
      {
        losses: zeros([B, T]),
        lse: zeros([B, T]),
        logits: input(logits, [B, T, V]),
        targets: input(targets, [B, T], 'i32'),
      },
      (rec, t) => crossentropyForward(rec, t.losses, t.lse, t.logits, t.targets),
    );
    const want = ref.forward(logits, targets, B, T, V);
    expectClose(got.losses, want.out, TOL.reduction, 'crossentropy losses');
    expectClose(got.lse, want.cache.lse, TOL.reduction, 'crossentropy lse');
  });

  it.each(SHAPES)('backward writes dlogits over the logits at B=%i T=%i V=%i', async (B, T, V) => {
    const logits = logitsFor(B * T, V, 20);
    const targets = targetsFor(B * T, V, 21);
    const dlosses = randF32(B * T, 22); // per-token weights, as DPO would give
    const fwd = ref.forward(logits, targets, B, T, V);
    const got = await runOp(
      gpu(),
      {
        logits: input(logits, [B, T, V]),
        targets: input(targets, [B, T], 'i32'),
        lse: input(fwd.cache.lse, [B, T]),
        dlosses: input(dlosses, [B, T]),
      },
      (rec, t) => crossentropyBackward(rec, t.logits, t.targets, t.lse, t.dlosses),
    );
    expectClose(got.logits, ref.backward(dlosses, fwd.cache).dlogits, TOL.elementwise, 'dlogits');
  });

  it.each([
    [4, 64, 5000],
    [3, 7, 4096],
  ])('a whole loss step (forward, mean, mean backward, backward) at B=%i T=%i V=%i', async (B, T, V) => {
    const logits = logitsFor(B * T, V, 30);
    const targets = targetsFor(B * T, V, 31);
    const got = await runOp(
      gpu(),
      lossTensors(logits, targets, B, T, V),
      (rec, t) => {
        crossentropyForward(rec, t.losses, t.lse, t.logits, t.targets);
        meanLossForward(rec, t.loss, t.losses, t.targets);
        meanLossBackward(rec, t.dlosses, t.targets, t.loss);
        crossentropyBackward(rec, t.logits, t.targets, t.lse, t.dlosses);
      },
    );
    const ce = ref.forward(logits, targets, B, T, V);
    const mean = ref.meanForward(ce.out, targets);
    const { dlosses } = ref.meanBackward(1, mean.cache);
    expect(got.loss[1]).toBe(mean.out[1]);
    expectClose(got.loss.subarray(0, 1), mean.out.subarray(0, 1), TOL.reduction, 'mean loss');
    expectClose(got.dlosses, dlosses, TOL.elementwise, 'dlosses');
    expectClose(got.logits, ref.backward(dlosses, ce.cache).dlogits, TOL.elementwise, 'dlogits');
  });

  it('mean backward scales by dloss (gradient accumulation) and counts on the GPU', async () => {
    const N = 300;
    const targets = targetsFor(N, 7, 40);
    const losses = randF32(N, 41).map(Math.abs);
    const mean = ref.meanForward(losses, targets);
    const got = await runOp(
      gpu(),
      { loss: zeros([2]), dlosses: input(randF32(N, 42), [N]), losses: input(losses, [N]), targets: input(targets, [N], 'i32') },
      (rec, t) => {
        meanLossForward(rec, t.loss, t.losses, t.targets);
        meanLossBackward(rec, t.dlosses, t.targets, t.loss, 0.25);
      },
    );
    expect(got.loss[1]).toBe(200);
    expectClose(got.loss.subarray(0, 1), mean.out.subarray(0, 1), TOL.reduction, 'mean loss');
    expectClose(got.dlosses, ref.meanBackward(0.25, mean.cache).dlosses, TOL.elementwise, 'dlosses');
  });

  it('a batch whose tokens are all masked gives loss [0, 0] and zero gradients, not NaN', async () => {
    const [B, T, V] = [2, 3, 300];
    const targets = new Int32Array(B * T).fill(-100);
    const got = await runOp(
      gpu(),
      {
        loss: input([7, 7], [2]),
        losses: input(randF32(B * T, 50), [B, T]),
        lse: zeros([B, T]),
        dlosses: zeros([B, T]),
        logits: input(logitsFor(B * T, V, 51), [B, T, V]),
        targets: input(targets, [B, T], 'i32'),
      },
      (rec, t) => {
        crossentropyForward(rec, t.losses, t.lse, t.logits, t.targets);
        meanLossForward(rec, t.loss, t.losses, t.targets);
        meanLossBackward(rec, t.dlosses, t.targets, t.loss);
        crossentropyBackward(rec, t.logits, t.targets, t.lse, t.dlosses);
      },
    );
    expect(Array.from(got.loss)).toEqual([0, 0]);
    expect(got.losses.every((x) => x === 0)).toBe(true);
    expect(got.dlosses.every((x) => x === 0)).toBe(true);
    expect(got.logits.every((x) => x === 0)).toBe(true);
  });

  it('a target outside [0,V) other than -100 gives a NaN loss, and NaN mean', async () => {
    const V = 20;
    const got = await runOp(
      gpu(),
      {
        loss: zeros([2]),
        losses: zeros([3]),
        lse: zeros([3]),
        logits: input(randF32(3 * V, 60), [3, V]),
        targets: input([5, V, -1], [3], 'i32'),
      },
      (rec, t) => {
        crossentropyForward(rec, t.losses, t.lse, t.logits, t.targets);
        meanLossForward(rec, t.loss, t.losses, t.targets);
      },
    );
    expect(Number.isFinite(got.losses[0])).toBe(true);
    expect(got.losses[1]).toBeNaN();
    expect(got.losses[2]).toBeNaN();
    expect(got.loss[0]).toBeNaN();
  });

  it("reproduces PyTorch's loss on the default model's fixture (tests/fixtures/forward.safetensors)", async () => {
    const file = parseSafetensors(readFileSync('tests/fixtures/forward.safetensors'), { source: 'forward.safetensors' });
    const [B, T, V] = file.byName.get('logits')!.shape;
    const logits = Float64Array.from(tensorToFloat32(file, 'logits'));
    const targets = i32(file, 'targets');
    const want = tensorToFloat32(file, 'loss')[0];
    expect(targets.some((t) => t === -100)).toBe(true); // the fixture exercises the mask
    const got = await runOp(
      gpu(),
      lossTensors(logits, targets, B, T, V),
      (rec, t) => {
        crossentropyForward(rec, t.losses, t.lse, t.logits, t.targets);
        meanLossForward(rec, t.loss, t.losses, t.targets);
      },
    );
    expect(got.loss[1]).toBe(targets.filter((t) => t !== -100).length);
    expectClose([got.loss[0]], [want], TOL.reduction, 'fixture mean loss');
  });
});

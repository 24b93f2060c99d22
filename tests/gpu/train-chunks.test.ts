// The classifier's memory bounds must not change the numbers: computing the loss over several row
// chunks (a small logits buffer), and with lm_head split over several buffers, gives the same loss
// and adapter gradients as one pass.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { createRng } from '../../src/lib/random.ts';
import { Model } from '../../src/lib/model/model.ts';
import type { LoadOptions } from '../../src/lib/model/weights.ts';
import type { Batch } from '../../src/lib/data/batches.ts';
import { FIXTURES, lora, maxAbsDiff, modelFiles, randomizeLoraB, relError, gradientPass } from './fixtures.ts';

const gpu = useGpu();

/** A seeded batch for tiny-smollm2 (vocabulary 384); every `maskEvery`-th target is ignored (-100). */
function randomBatch(seed: number, B: number, T: number, maskEvery: number): Batch {
  const rand = createRng(seed);
  return {
    B, T,
    ids: Int32Array.from({ length: B * T }, () => Math.floor(rand() * 384)),
    targets: Int32Array.from({ length: B * T }, (_, i) => (i % maskEvery === 0 ? -100 : Math.floor(rand() * 384))),
  };
}

async function lossAndGrads(opts: LoadOptions, b: Batch) {
  const model = Model.load(gpu(), modelFiles(join(FIXTURES, 'tiny-smollm2')), opts);
  try {
    const a = model.attach(lora(2, 4, ['q_proj', 'down_proj']), 1);
    await randomizeLoraB(a, createRng(4));
    const [loss, count] = await gradientPass(model, b);
    const acts = model.activations(b.B, b.T, true);
    return { loss, count, grads: await a.grads.readAll(), headRows: acts.headRows, lmChunks: model.transformer.binding.lmHead.chunks.length };
  } finally {
    model.destroy();
  }
}

describe('classifier chunking', () => {
  it('row chunks and a split lm_head give the same loss and gradients', async () => {
    const B = 2;
    const T = 100;
    const b = randomBatch(8, B, T, 7);
    // Buffer sizes for f32 storage (tiny-smollm2 is BF16: f16 by default, half the bytes).
    const whole = await lossAndGrads({ weightDtype: 'f32' }, b);
    const chunked = await lossAndGrads({ headBytes: 64 * 384 * 4, maxBufferBytes: 96 * 1024, weightDtype: 'f32' }, b);
    expect(whole.headRows).toBe(B * T);
    expect(chunked.headRows).toBe(64);
    expect(chunked.count).toBeGreaterThan(2 * 64); // at least three chunks
    expect(chunked.lmChunks).toBeGreaterThan(1);
    expect(chunked.count).toBe(whole.count);
    expect(Math.abs(chunked.loss - whole.loss)).toBeLessThanOrEqual(1e-6 * whole.loss);
    const err = relError(chunked.grads, whole.grads);
    console.log(`chunked classifier: loss ${chunked.loss} vs ${whole.loss}, gradient rel err ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-5);
  });
});

describe('projection weights larger than one binding', () => {
  // 64 KiB buffers split tiny-smollm2's MLP weights (256×96 floats) and its embedding into row chunks
  // when they are stored f32 (f16 splits: weights-f16.test.ts).
  const WHOLE = { weightDtype: 'f32' } as const;
  const SPLIT = { maxBufferBytes: 64 * 1024, weightDtype: 'f32' } as const;
  const LORA = lora(2, 4, ['gate_proj', 'down_proj', 'q_proj']);

  async function run(opts: LoadOptions, method: 'lora' | 'full', b: Batch) {
    const model = Model.load(gpu(), modelFiles(join(FIXTURES, 'tiny-smollm2')), opts);
    try {
      const a = model.attach(method === 'lora' ? LORA : { peft_type: 'FULL' }, 1);
      if (method === 'lora') await randomizeLoraB(a, createRng(4));
      const [loss] = await gradientPass(model, b);
      const flat = await a.grads.readAll();
      const grads = new Map(a.def.specs.map((s) => [s.name, a.grads.extract(flat, s.name)]));
      const logits = await model.logits(b.ids, b.B, b.T);
      let merged: Float32Array | null = null;
      if (method === 'lora') {
        model.mergeLora();
        merged = await model.logits(b.ids, b.B, b.T);
        model.unmergeLora();
      }
      const split = model.transformer.binding.layers[0].mlpIn[0].split !== null;
      return { loss, grads, logits, merged, split };
    } finally {
      model.destroy();
    }
  }

  it.each(['lora', 'full'] as const)('%s: same logits, loss and gradients as unsplit', async (method) => {
    const b = randomBatch(12, 2, 16, 4);
    const whole = await run(WHOLE, method, b);
    const split = await run(SPLIT, method, b);
    expect(whole.split).toBe(false);
    expect(split.split).toBe(true);
    expect(maxAbsDiff(split.logits, whole.logits)).toBeLessThanOrEqual(1e-5);
    expect(Math.abs(split.loss - whole.loss)).toBeLessThanOrEqual(1e-6 * whole.loss);
    let worst = 0;
    for (const [name, g] of whole.grads) worst = Math.max(worst, relError(split.grads.get(name)!, g));
    console.log(`split ${method}: worst gradient rel err ${worst.toExponential(2)} over ${whole.grads.size} tensors`);
    expect(worst).toBeLessThanOrEqual(1e-5);
    if (method === 'lora') {
      expect(maxAbsDiff(split.merged!, split.logits)).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(split.merged!, whole.merged!)).toBeLessThanOrEqual(1e-5);
    }
  });
});

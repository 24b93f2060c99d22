// The training step's contract: gradient accumulation over micro-batches equals the mean of their
// gradients; NaN/Inf is detected from one readback and the update is skipped (weights, moments and
// step count unchanged); a normal step moves the weights and only the trainable ones.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { createRng } from '../../src/lib/random.ts';
import { createTensor, readF32, Recorder } from '../../src/lib/gpu/index.ts';
import { Model } from '../../src/lib/model/model.ts';
import type { Batch } from '../../src/lib/data/batches.ts';
import type { MethodConfig } from '../../src/lib/adapters/config.ts';
import { defaultTrainConfig } from '../../src/lib/train/config.ts';
import { encodeGradients, Trainer } from '../../src/lib/train/step.ts';
import { FIXTURES, maxAbsDiff, modelFiles, relError, lora } from './fixtures.ts';

const gpu = useGpu();

function batch(V: number, seed: number): Batch {
  const rand = createRng(seed);
  const B = 2;
  const T = 12;
  return {
    B, T,
    ids: Int32Array.from({ length: B * T }, () => Math.floor(rand() * V)),
    targets: Int32Array.from({ length: B * T }, (_, i) => (i % T < 4 ? -100 : Math.floor(rand() * V))),
  };
}

const BOTTLENECK: MethodConfig = { peft_type: 'BOTTLENECK', bottleneck_size: 8, non_linearity: 'relu', placement: ['self_attn', 'mlp'] };

describe('training step', () => {
  it('gradient accumulation gives the mean of the micro-batch gradients', async () => {
    const model = Model.load(gpu(), modelFiles(join(FIXTURES, 'tiny-smollm2')));
    try {
      const a = model.attach(BOTTLENECK, 1);
      // Non-zero up-projections so every adapter tensor has a gradient.
      const rand = createRng(2);
      const theta = await a.params.readAll();
      a.params.writeAll(theta.map((x) => (x === 0 ? (rand() - 0.5) * 0.1 : x)));
      const V = model.cfg.vocabSize;
      const loss = createTensor(gpu(), [4]);
      const grads = async (bs: Batch[]) => {
        const rec = new Recorder(gpu());
        encodeGradients(rec, model, bs, loss);
        rec.submit();
        return { g: await a.grads.readAll(), l: await readF32(gpu(), loss) };
      };
      const b1 = batch(V, 3);
      const b2 = batch(V, 4);
      const g1 = await grads([b1]);
      const g2 = await grads([b2]);
      const g12 = await grads([b1, b2]);
      const mean = g1.g.map((x, i) => (x + g2.g[i]) / 2);
      const err = relError(g12.g, mean);
      console.log(`accumulation: rel err vs mean of micro-batch gradients ${err.toExponential(2)}`);
      expect(err).toBeLessThanOrEqual(1e-5);
      expect([g12.l[0], g12.l[2]]).toEqual([g1.l[0], g2.l[0]]);
      loss.buffer.destroy();
    } finally {
      model.destroy();
    }
  });

  it('a NaN in the weights is reported and the update skipped; a normal step updates only trainable weights', async () => {
    const model = Model.load(gpu(), modelFiles(join(FIXTURES, 'tiny-smollm2')));
    try {
      const a = model.attach(lora(2, 4, ['q_proj', 'v_proj']), 1);
      const trainer = new Trainer(model, { ...defaultTrainConfig(), learning_rate: 1e-2 });
      const b = batch(model.cfg.vocabSize, 5);
      const base0 = await model.base.readAll();
      const ok = await trainer.trainStep([b], 1e-2);
      expect(ok.nonfinite).toBe(false);
      expect(ok.gradNorm).toBeGreaterThan(0);
      expect(trainer.step).toBe(1);
      const theta = await a.params.readAll();
      const name = a.def.specs[0].name;
      const poisoned = theta.slice();
      a.params.insert(poisoned, name, a.params.extract(theta, name).map((x, i) => (i === 0 ? NaN : x)));
      a.params.writeAll(poisoned);
      const m0 = await trainer.optimizer.m.readAll();
      const bad = await trainer.trainStep([b], 1e-2);
      expect(bad.nonfinite).toBe(true);
      expect(trainer.step).toBe(1);
      const after = await a.params.readAll();
      expect(maxAbsDiff(after.filter((x) => !Number.isNaN(x)), poisoned.filter((x) => !Number.isNaN(x)))).toBe(0);
      expect(Array.from(await trainer.optimizer.m.readAll())).toEqual(Array.from(m0));
      const base1 = await model.base.readAll();
      expect(Buffer.from(base1.buffer).equals(Buffer.from(base0.buffer))).toBe(true);
      trainer.destroy();
    } finally {
      model.destroy();
    }
  });
});

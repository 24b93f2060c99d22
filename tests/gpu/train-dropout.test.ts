// LoRA dropout (PEFT's lora_dropout): active only in training, one mask per projection and seed,
// and the gradients are those of the loss with that mask (directional derivative vs central
// differences at a fixed seed).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { createRng } from '../../src/lib/random.ts';
import { createTensor, readF32, Recorder } from '../../src/lib/gpu/index.ts';
import { Model } from '../../src/lib/model/model.ts';
import type { Batch } from '../../src/lib/data/batches.ts';
import { encodeGradients } from '../../src/lib/train/step.ts';
import { FIXTURES, lora, modelFiles, randomizeLoraB } from './fixtures.ts';

const gpu = useGpu();

describe('LoRA dropout', () => {
  it('gradients are exact for the sampled mask; inference uses no dropout', async () => {
    const model = Model.load(gpu(), modelFiles(join(FIXTURES, 'tiny-smollm2')));
    try {
      const V = model.cfg.vocabSize;
      const rand = createRng(9);
      const B = 2;
      const T = 16;
      const b: Batch = {
        B, T,
        ids: Int32Array.from({ length: B * T }, () => Math.floor(rand() * V)),
        targets: Int32Array.from({ length: B * T }, () => Math.floor(rand() * V)),
      };
      const a = model.attach(lora(4, 8, ['q_proj', 'v_proj', 'up_proj', 'down_proj'], { lora_dropout: 0.3 }), 3);
      // Non-zero B so the branch matters.
      const theta = await randomizeLoraB(a, rand, 0.2);

      const lossOut = createTensor(gpu(), [2]);
      const trainLoss = async (seed: number) => {
        const rec = new Recorder(gpu());
        encodeGradients(rec, model, [b], lossOut, { dropoutSeed: seed });
        rec.submit();
        return (await readF32(gpu(), lossOut))[0];
      };
      const l0 = await trainLoss(123);
      const g = await a.grads.readAll();
      expect(await trainLoss(124)).not.toBe(l0); // another mask
      const evalLoss = await model.loss(b.ids, b.targets, B, T);
      expect(evalLoss).not.toBe(l0); // no dropout outside training

      const D = Float32Array.from({ length: theta.length }, () => rand() * 2 - 1);
      let gd = 0;
      for (const s of a.def.specs) {
        const gs = a.grads.extract(g, s.name);
        const ds = a.params.extract(D, s.name);
        for (let i = 0; i < gs.length; i++) gd += gs[i] * ds[i];
      }
      const lossAt = async (step: number) => {
        a.params.writeAll(theta.map((x, i) => x + step * D[i]));
        return trainLoss(123);
      };
      // Central differences at h and h/2, Richardson-extrapolated (the O(h²) error cancels).
      const central = async (h: number) => ((await lossAt(h)) - (await lossAt(-h))) / (2 * h);
      const h = 1e-2;
      const numeric = (4 * (await central(h / 2)) - (await central(h))) / 3;
      const err = Math.abs(numeric - gd) / Math.abs(gd);
      console.log(`dropout: directional derivative ${gd.toExponential(4)} vs central difference ${numeric.toExponential(4)}, rel err ${err.toExponential(2)}`);
      expect(err).toBeLessThanOrEqual(2e-3);
      lossOut.buffer.destroy();
    } finally {
      model.destroy();
    }
  });
});

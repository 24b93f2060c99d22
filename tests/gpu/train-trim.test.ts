// No compute on padding: a step over batches cut to their longest row's bucket (data/batches.ts
// trimBatches) gives the loss and the LoRA gradients of the same batches padded to the full length.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { createRng } from '../../src/lib/random.ts';
import { createTensor, readF32, Recorder } from '../../src/lib/gpu/index.ts';
import { Model } from '../../src/lib/model/model.ts';
import { IGNORE_INDEX } from '../../src/lib/data/pack.ts';
import { trimBatches, type Batch } from '../../src/lib/data/batches.ts';
import { encodeGradients } from '../../src/lib/train/step.ts';
import { FIXTURES, lora, modelFiles, randomizeLoraB, relError } from './fixtures.ts';

const gpu = useGpu();

/** B rows of T positions; row b is `lengths[b]` tokens long, its loss on the second half of them. */
function padded(V: number, T: number, lengths: number[], seed: number): Batch {
  const rand = createRng(seed);
  const B = lengths.length;
  const ids = new Int32Array(B * T);
  const targets = new Int32Array(B * T).fill(IGNORE_INDEX);
  lengths.forEach((L, b) => {
    const row = Array.from({ length: L }, () => 1 + Math.floor(rand() * (V - 1)));
    ids.set(row, b * T);
    for (let t = Math.floor(L / 2); t < L - 1; t++) targets[b * T + t] = row[t + 1];
  });
  return { B, T, ids, targets };
}

describe('training on batches cut to their longest row', () => {
  it('gives the fully padded batches’ loss and LoRA gradients', async () => {
    const model = Model.load(gpu(), modelFiles(join(FIXTURES, 'tiny-smollm2')));
    try {
      const a = model.attach(lora(4, 8, ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']), 1);
      await randomizeLoraB(a, createRng(5), 0.2);
      const V = model.cfg.vocabSize;
      const full = [padded(V, 96, [23, 9, 17], 1), padded(V, 96, [5, 12, 20], 2)];
      const cut = trimBatches(full);
      expect(cut.map((b) => b.T)).toEqual([32, 32]);
      const out = createTensor(gpu(), [4]);
      const run = async (batches: Batch[]) => {
        const rec = new Recorder(gpu());
        encodeGradients(rec, model, batches, out);
        rec.submit();
        return { loss: await readF32(gpu(), out), grads: await a.grads.readAll() };
      };
      const whole = await run(full);
      const trimmed = await run(cut);
      out.buffer.destroy();
      const lossErr = Math.max(Math.abs(whole.loss[0] - trimmed.loss[0]), Math.abs(whole.loss[2] - trimmed.loss[2]));
      const gradErr = relError(trimmed.grads, whole.grads);
      console.log(`T 96 -> 32: losses ${whole.loss[0]}, ${whole.loss[2]}; |Δloss| ${lossErr.toExponential(2)}, gradient rel err ${gradErr.toExponential(2)}`);
      // Same counted tokens, same losses and gradients (up to float summation order).
      expect([trimmed.loss[1], trimmed.loss[3]]).toEqual([whole.loss[1], whole.loss[3]]);
      expect(lossErr).toBeLessThanOrEqual(1e-6 * Math.abs(whole.loss[0]));
      expect(gradErr).toBeLessThanOrEqual(1e-5);
      expect(whole.grads.some((g) => g !== 0)).toBe(true);
    } finally {
      model.destroy();
    }
  });
});

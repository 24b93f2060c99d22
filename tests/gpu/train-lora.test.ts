// LoRA training end to end on the default model: 16 short prompt→answer pairs, loss only on the
// answers (targets -100 on the prompts), 60 optimizer steps. The training loss must fall by at least
// 80% and greedy decoding from each prompt must then reproduce at least 14 of the 16 answers. The
// base weights must come out bit for bit unchanged.
// On SwiftShader a step of this batch (B=16, ~2 GFLOP) takes 5-15 s depending on how busy the CPU
// is, so the timeout is generous; the test prints its timing.
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import { useGpu } from '../helpers/gpu.ts';
import { generateAll } from '../../src/lib/generate/generate.ts';
import { Model } from '../../src/lib/model/model.ts';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../../src/lib/train/config.ts';
import { learningRateAt } from '../../src/lib/train/schedule.ts';
import { Trainer, type Batch } from '../../src/lib/train/step.ts';
import { DEFAULT_MODEL, ROOT, modelFiles } from './fixtures.ts';

const gpu = useGpu();

const PAIRS: [string, string][] = [
  ['The color of the sky is', ' blue.'],
  ['The color of grass is', ' green.'],
  ['The capital of France is', ' Paris.'],
  ['The capital of Italy is', ' Rome.'],
  ['Two plus two is', ' four.'],
  ['Three plus three is', ' six.'],
  ['The sun rises in the', ' east.'],
  ['The sun sets in the', ' west.'],
  ['Ice is made of', ' water.'],
  ['A dog likes to', ' bark.'],
  ['A cat likes to', ' sleep.'],
  ['The first month is', ' January.'],
  ['The last month is', ' December.'],
  ['Bread is made from', ' wheat.'],
  ['The opposite of hot is', ' cold.'],
  ['The opposite of up is', ' down.'],
];

let tok: PreTrainedTokenizer;
beforeAll(async () => {
  env.allowRemoteModels = false;
  env.localModelPath = join(ROOT, 'models') + '/';
  tok = await AutoTokenizer.from_pretrained('brown-llama-4m');
}, 60_000);

const encode = (s: string): number[] => Array.from(tok.encode(s, { add_special_tokens: false }) as number[]);

describe('LoRA training', () => {
  it('learns 16 answers in 60 steps without touching the base weights', { timeout: 2_400_000 }, async () => {
    const model = Model.load(gpu(), modelFiles(DEFAULT_MODEL));
    try {
      const eos = model.cfg.eosTokenIds[0];
      const rows = PAIRS.map(([p, a]) => ({ prompt: encode(p), answer: [...encode(a), eos] }));
      const T = Math.max(...rows.map((r) => r.prompt.length + r.answer.length));
      const B = rows.length;
      // Row b: prompt, answer, eos, padding. targets[t] = ids[t+1] where ids[t+1] is an answer token.
      const ids = new Int32Array(B * T);
      const targets = new Int32Array(B * T).fill(-100);
      rows.forEach((r, b) => {
        const seq = [...r.prompt, ...r.answer];
        seq.forEach((id, t) => (ids[b * T + t] = id));
        for (let t = r.prompt.length - 1; t < seq.length - 1; t++) targets[b * T + t] = seq[t + 1];
      });
      const batch: Batch = { B, T, ids, targets };

      const before = await model.base.readAll();
      model.attach({ method: 'lora', r: 8, alpha: 16, dropout: 0, useRslora: false, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] }, 0);
      const cfg: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, batchSize: B, seqLen: T, maxSteps: 60, learningRate: 1e-2, minLearningRate: 1e-3, warmupSteps: 5 };
      const trainer = new Trainer(model, cfg);
      const losses: number[] = [];
      const t0 = performance.now();
      for (let s = 0; s < cfg.maxSteps; s++) {
        const r = await trainer.trainStep([batch], learningRateAt(cfg, s));
        expect(r.nonfinite).toBe(false);
        losses.push(r.loss);
        if (s % 10 === 0) console.log(`step ${s}: loss ${r.loss.toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      }
      const first = losses[0];
      const last = losses[losses.length - 1];
      console.log(`LoRA: loss ${first.toFixed(3)} -> ${last.toFixed(3)} (${(100 * (1 - last / first)).toFixed(1)}% lower)`);
      expect(last).toBeLessThanOrEqual(0.2 * first);

      let correct = 0;
      for (const r of rows) {
        const { tokens } = await generateAll(model, r.prompt, { maxNewTokens: r.answer.length });
        if (tokens.join() === r.answer.join()) correct++;
      }
      console.log(`LoRA: ${correct}/16 answers reproduced by greedy decoding`);
      expect(correct).toBeGreaterThanOrEqual(14);

      const after = await model.base.readAll();
      expect(Buffer.from(after.buffer).equals(Buffer.from(before.buffer))).toBe(true);
      trainer.destroy();
    } finally {
      model.destroy();
    }
  });
});

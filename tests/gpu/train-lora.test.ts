// LoRA training end to end on the default model, through the run loop the page and the command line
// use (train/run.ts): 16 short prompt→answer pairs, loss only on the answers (targets ignored on the
// prompts), 60 optimizer steps of all 16 rows. The training loss must fall by at least 80% and greedy
// decoding from each prompt must then reproduce at least 14 of the 16 answers. The base weights must
// come out bit for bit unchanged, and the run reports every step, its checkpoints and its end.
// On SwiftShader a step of this batch (B=16, ~2 GFLOP) takes 5-15 s depending on how busy the CPU
// is, so the timeout is generous; the test prints its timing.
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import { useGpu } from '../helpers/gpu.ts';
import { IGNORE_INDEX, type PackedRows } from '../../src/lib/data/pack.ts';
import { Engine } from '../../src/lib/engine.ts';
import { defaultTrainConfig, type TrainConfig } from '../../src/lib/train/config.ts';
import { emptyRows } from '../../src/lib/train/plan.ts';
import { runTraining, type TrainUpdate } from '../../src/lib/train/run.ts';
import { collect, DEFAULT_MODEL, lora, ROOT, modelFiles } from './fixtures.ts';

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
    const engine = await Engine.load(modelFiles(DEFAULT_MODEL), { gpu: gpu() });
    try {
      const eos = engine.config.eosTokenIds[0];
      const rows = PAIRS.map(([p, a]) => ({ prompt: encode(p), answer: [...encode(a), eos] }));
      const T = Math.max(...rows.map((r) => r.prompt.length + r.answer.length));
      const B = rows.length;
      // Row b: prompt, answer, eos, padding. targets[t] = ids[t+1] where ids[t+1] is an answer token.
      const inputIds = new Int32Array(B * T);
      const targets = new Int32Array(B * T).fill(IGNORE_INDEX);
      rows.forEach((r, b) => {
        const seq = [...r.prompt, ...r.answer];
        seq.forEach((id, t) => (inputIds[b * T + t] = id));
        for (let t = r.prompt.length - 1; t < seq.length - 1; t++) targets[b * T + t] = seq[t + 1];
      });
      const countedPerRow = Int32Array.from(rows, (r) => r.answer.length);
      const train: PackedRows = { T, rows: B, inputIds, targets, countedPerRow, countedTokens: countedPerRow.reduce((x, y) => x + y, 0), warnings: [], leftOut: [] };

      const before = await engine.model.base.readAll();
      const config: TrainConfig = {
        ...defaultTrainConfig('LORA'),
        per_device_train_batch_size: B,
        max_length: T,
        max_steps: 60,
        learning_rate: 1e-2,
        warmup_steps: 5,
      };
      const updates: TrainUpdate[] = [];
      const kept: number[] = [];
      const t0 = performance.now();
      const run = await runTraining(
        engine,
        { method: lora(8, 16, ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']), config, data: { train, validation: emptyRows(T), padId: 0 }, steps: 60 },
        {
          onUpdate: (u) => {
            updates.push(u);
            if (u.kind === 'step' && u.step % 10 === 1) console.log(`step ${u.step}: loss ${u.loss.toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
          },
          keepCheckpoint: async (state) => void kept.push(state.step),
        },
      );
      expect(run.status).toBe('finished');
      expect(run.step).toBe(60);
      const losses = updates.flatMap((u) => (u.kind === 'step' ? [u.loss] : []));
      expect(losses).toHaveLength(60);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(run.history.train.map((p) => p.loss)).toEqual(losses);
      // A checkpoint at step 0, about ten during the run, and one at the end.
      expect(kept[0]).toBe(0);
      expect(kept[kept.length - 1]).toBe(60);
      expect(kept.length).toBeGreaterThanOrEqual(8);
      const first = losses[0];
      const last = losses[losses.length - 1];
      console.log(`LoRA: loss ${first.toFixed(3)} -> ${last.toFixed(3)} (${(100 * (1 - last / first)).toFixed(1)}% lower)`);
      expect(last).toBeLessThanOrEqual(0.2 * first);

      let correct = 0;
      for (const r of rows) {
        const { tokens } = await collect(engine.generate(r.prompt, { maxNewTokens: r.answer.length }));
        if (tokens.join() === r.answer.join()) correct++;
      }
      console.log(`LoRA: ${correct}/16 answers reproduced by greedy decoding`);
      expect(correct).toBeGreaterThanOrEqual(14);

      const after = await engine.model.base.readAll();
      expect(Buffer.from(after.buffer).equals(Buffer.from(before.buffer))).toBe(true);
    } finally {
      engine.destroy();
    }
  });
});

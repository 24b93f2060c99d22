// DPO learns, through what the page and the command line run: tests/fixtures/preferences.jsonl (20
// prompts, each with a right and a wrong short answer) read, tokenized with the model's tokenizer and
// packed as pairs by the data layer, planned with the DPO objective (train/plan.ts), and trained by
// the run loop (train/run.ts) for 40 steps of LoRA at the page's defaults. Before training the policy
// is its reference (a fresh LoRA changes nothing), so the first validation loss is ln 2 with no
// reward; after it, the DPO rewards must rank at least 90% of the training pairs right, with a
// positive mean margin, and the base weights must not have moved by a single bit.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { useGpu } from '../helpers/gpu.ts';
import { fromTransformersTokenizer, parseDatasetText, prepareTraining, type TextTokenizer } from '../../src/lib/data';
import { evalBatches, rowBatches } from '../../src/lib/data/batches.ts';
import { Engine } from '../../src/lib/engine.ts';
import { parseModelConfig } from '../../src/lib/model/config.ts';
import { defaultMethod, defaultObjective, defaultTrainConfig } from '../../src/lib/train/config.ts';
import { buildTrainingPlan } from '../../src/lib/train/plan.ts';
import { runTraining, type TrainUpdate } from '../../src/lib/train/run.ts';
import { DEFAULT_MODEL, FIXTURES, modelFiles, ROOT } from './fixtures.ts';

const gpu = useGpu();

let tokenizer: TextTokenizer;
beforeAll(async () => {
  env.allowRemoteModels = false;
  env.localModelPath = join(ROOT, 'models') + '/';
  tokenizer = fromTransformersTokenizer(await AutoTokenizer.from_pretrained('brown-llama-4m'));
}, 60_000);

describe('DPO training', () => {
  it('ranks the training pairs right after 40 steps of LoRA, leaving the base weights untouched', { timeout: 2_400_000 }, async () => {
    const parsed = await parseDatasetText(readFileSync(join(FIXTURES, 'preferences.jsonl'), 'utf8'), 'preferences.jsonl');
    const T = 16;
    const prepared = await prepareTraining({ train: parsed, tokenizer, seqLen: T });
    const objective = defaultObjective('dpo');
    const method = defaultMethod('LORA');
    const B = 8; // pairs per step: 16 rows
    const plan = buildTrainingPlan({
      model: { id: 'brown-llama-4m', config: parseModelConfig(readFileSync(join(DEFAULT_MODEL, 'config.json'), 'utf8')) },
      name: 'preferences.jsonl',
      prepared,
      sourceExamples: parsed.examples,
      chatTemplate: null,
      padId: tokenizer.padId,
      skippedRecords: 0,
      method,
      objective,
      config: { ...defaultTrainConfig('LORA'), max_steps: 40, per_device_train_batch_size: B, max_length: T, eval_steps: 40 },
    });
    expect(plan.data.train.pairs).toBe(true);
    const pairs = plan.data.train.rows / 2;
    expect(pairs).toBe(18);

    const engine = await Engine.load(modelFiles(DEFAULT_MODEL), { gpu: gpu() });
    try {
      const base = await engine.model.base.readAll();
      // The reference of the training pairs, for measuring them after the run: the bare base.
      const reference = (await engine.sequenceLogps(rowBatches(plan.data.train, 2 * B, plan.data.padId))).slice(0, plan.data.train.rows);
      const updates: TrainUpdate[] = [];
      const t0 = performance.now();
      const run = await runTraining(engine, plan, {
        onUpdate: (u) => {
          updates.push(u);
          if (u.kind === 'step' && (u.step % 10 === 0 || u.step === 1)) {
            const m = u.metrics!;
            console.log(`step ${u.step}: loss ${u.loss.toFixed(4)}, accuracy ${m['rewards/accuracies'].toFixed(3)}, margin ${m['rewards/margins'].toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
          }
        },
      });
      const seconds = (performance.now() - t0) / 1000;
      expect(run.status).toBe('finished');
      expect(run.step).toBe(40);
      const steps = updates.filter((u) => u.kind === 'step');
      expect(steps).toHaveLength(40);
      expect(steps.every((u) => u.kind === 'step' && u.metrics !== undefined && Number.isFinite(u.loss))).toBe(true);

      // Step 0: the policy is the reference, bit for bit.
      const first = run.history.validation[0];
      expect(first.step).toBe(0);
      expect(first.metrics!['rewards/margins']).toBe(0);
      expect(first.metrics!['rewards/accuracies']).toBe(0);
      expect(Math.abs(first.loss - Math.fround(Math.LN2))).toBeLessThanOrEqual(2 ** -24); // one ulp of ln 2 in float32

      const after = await engine.evaluate(evalBatches(plan.data.train, B, plan.data.padId, reference), objective);
      const m = after.metrics!;
      console.log(
        `DPO, 40 steps of LoRA in ${seconds.toFixed(0)} s: training pairs ranked right ${(100 * m['rewards/accuracies']).toFixed(1)}%, ` +
          `margin ${m['rewards/margins'].toFixed(4)}, loss ${after.loss.toFixed(4)} (from ln 2 = 0.6931); ` +
          `log π chosen ${m['logps/chosen'].toFixed(3)}, rejected ${m['logps/rejected'].toFixed(3)}`,
      );
      expect(m['rewards/accuracies']).toBeGreaterThanOrEqual(0.9);
      expect(m['rewards/margins']).toBeGreaterThan(0);
      expect(after.loss).toBeLessThan(Math.LN2);

      const unchanged = await engine.model.base.readAll();
      expect(Buffer.from(unchanged.buffer).equals(Buffer.from(base.buffer))).toBe(true);
    } finally {
      engine.destroy();
    }
  });
});

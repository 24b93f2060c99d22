// Full fine-tuning, end to end: a short run of the one run loop on the shipped model with every weight
// trainable, exported as `train --method full` writes it (pretrain/folder.ts: config.json,
// generation_config.json, model.safetensors and the tokenizer files), written to disk, read back by the
// command line's folder reader and loaded into a fresh Engine: its logits must be the tuned engine's
// (≤ 1e-4), and must differ from the base model's (the export holds the trained weights, not the
// ones the run started from).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { loadFolderTokenizer } from '../../src/cli/model.ts';
import { Engine } from '../../src/lib/engine.ts';
import { readModelFiles } from '../../src/lib/model/files.ts';
import { folderReader } from '../../src/lib/model/files-node.ts';
import { modelFolderFiles, TOKENIZER_FILE_NAMES } from '../../src/lib/pretrain/folder.ts';
import { generalTextRows } from '../../src/lib/pretrain/general.ts';
import { defaultTrainConfig, type TrainConfig } from '../../src/lib/train/config.ts';
import { runTraining } from '../../src/lib/train/run.ts';
import { DEFAULT_MODEL, maxAbsDiff, modelFiles, ROOT } from './fixtures.ts';

const gpu = useGpu();

describe('full fine-tuning, exported', () => {
  it('the model folder of a short run reloads in a fresh engine with the tuned logits', { timeout: 900_000 }, async () => {
    const tok = (await loadFolderTokenizer(DEFAULT_MODEL, 'brown-llama-4m')).tokenizer;
    // The pirate answers as plain text: a handful of 32-token rows, every token counted.
    const text = readFileSync(join(ROOT, 'static', 'samples', 'pirate-qa.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { prompt: string; completion: string })
      .map((e) => e.prompt + e.completion)
      .join('\n\n');
    const T = 32;
    const rows = generalTextRows(text, tok, T, 4 * T);
    expect(rows.rows).toBe(4);

    const files = modelFiles(DEFAULT_MODEL);
    const engine = await Engine.load(files, { gpu: gpu() });
    const dir = mkdtempSync(join(tmpdir(), 'lora-playground-full-export-'));
    try {
      const base = await engine.logits(rows.inputIds, rows.rows, T);
      const config: TrainConfig = { ...defaultTrainConfig('FULL'), max_steps: 2, warmup_steps: 0, per_device_train_batch_size: 2, max_length: T, eval_steps: 2 };
      const run = await runTraining(engine, { method: { peft_type: 'FULL' }, config, data: { train: rows, validation: rows, padId: tok.padId }, steps: 2 });
      expect(run.status).toBe('finished');
      const tuned = await engine.logits(rows.inputIds, rows.rows, T);

      // What `train --method full --out DIR` writes: the trained weights with the base folder's config and tokenizer.
      const tokenizer = TOKENIZER_FILE_NAMES.map((name) => ({ name, data: readFileSync(join(DEFAULT_MODEL, name), 'utf8') }));
      const folder = modelFolderFiles(await engine.exportWeights(), { config: files.config, generationConfig: files.generationConfig, tokenizer });
      for (const f of folder) writeFileSync(join(dir, f.name), f.data);
      const reloaded = await Engine.load(await readModelFiles(folderReader(dir), dir), { gpu: gpu() });
      try {
        const again = await reloaded.logits(rows.inputIds, rows.rows, T);
        const diff = maxAbsDiff(again, tuned);
        const moved = maxAbsDiff(again, base);
        console.log(`full fine-tuning export: reloaded vs tuned logits max |diff| ${diff.toExponential(2)}; reloaded vs base ${moved.toExponential(2)}`);
        expect(diff).toBeLessThanOrEqual(1e-4);
        expect(moved).toBeGreaterThan(1e-2);
      } finally {
        reloaded.destroy();
      }
    } finally {
      engine.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

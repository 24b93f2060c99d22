// `lora-playground train`, the real command in a subprocess: the page's run loop on a dataset file,
// with an explicit validation file. Its JSON events are the run loop's (start, stages, one per step,
// validation); --out holds a PEFT adapter and a metrics.json; `eval` of the adapter on the validation
// file gives the run's own last validation loss; Ctrl-C stops after a step and still writes the
// adapter of the steps done; a failure leaves --out untouched.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAdapterConfig } from '../../src/lib/peft/config.ts';
import { parseSafetensors } from '../../src/lib/model/safetensors.ts';
import { ROOT, runCli } from './run.ts';

const MODEL = 'models/brown-llama-4m';
let tmp: string;
let train: string;
let valid: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-playground-train-'));
  const lines = readFileSync(join(ROOT, 'static/samples/pirate-qa.jsonl'), 'utf8').trim().split('\n');
  train = join(tmp, 'pirate-train.jsonl');
  valid = join(tmp, 'pirate-valid.jsonl');
  writeFileSync(train, lines.slice(0, -4).join('\n') + '\n');
  writeFileSync(valid, lines.slice(-4).join('\n') + '\n');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const common = (out: string) => ['--model', MODEL, '--data', train, '--valid', valid, '--seq-len', '48', '--batch', '4', '--lr', '1e-2', '--warmup', '0', '--out', out, '--json'];

describe('lora-playground train', () => {
  it('trains LoRA through the run loop and writes a PEFT adapter with its metrics', async () => {
    const out = join(tmp, 'lora');
    const r = await runCli(['train', ...common(out), '--method', 'lora', '--r', '4', '--alpha', '8', '--targets', 'q_proj,v_proj', '--steps', '3', '--eval-every', '3']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const updates = r.events().filter((e) => e.event === 'train');
    // The start comes before any step (stages such as measuring the general text may come before it).
    const start = updates.findIndex((u) => u.kind === 'start');
    expect(updates[start]).toMatchObject({ kind: 'start', step: 0, totalSteps: 3, rows: 28, validationRows: 4, batch: 4, seqLen: 48 });
    expect(start).toBeLessThan(updates.findIndex((u) => u.kind === 'step'));
    expect(updates.some((u) => u.kind === 'stage')).toBe(true);
    const steps = updates.filter((u) => u.kind === 'step');
    expect(steps.map((u) => u.step)).toEqual([1, 2, 3]);
    const validation = updates.filter((u) => u.kind === 'validation');
    expect(validation.map((u) => u.step)).toEqual([0, 3]);
    // TRL's mean_token_accuracy on the validation rows, a share.
    for (const u of validation) expect(u.tokenAccuracy as number).toBeGreaterThanOrEqual(0), expect(u.tokenAccuracy as number).toBeLessThanOrEqual(1);
    // The lowest validation loss is kept as the best point, announced as it happens.
    expect(updates.filter((u) => u.kind === 'best').map((u) => u.step)).toEqual([0, 3]);

    const result = r.result();
    expect(result).toMatchObject({ command: 'train', status: 'finished', steps: 3, out });
    expect(readdirSync(out).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'metrics.json']);
    const config = parseAdapterConfig(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
    expect(config.method).toEqual({ peft_type: 'LORA', r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: ['q_proj', 'v_proj'], use_rslora: false, layers_to_transform: null });
    expect(config.baseModel).toBe('brown-llama-4m');
    const tensors = parseSafetensors(new Uint8Array(readFileSync(join(out, 'adapter_model.safetensors')))).tensors;
    expect(tensors).toHaveLength(4 * 2 * 2); // 4 layers × q_proj, v_proj × A, B

    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.train_loss.map((p: { step: number }) => p.step)).toEqual([1, 2, 3]);
    expect(metrics.train_loss.map((p: { loss: number }) => p.loss)).toEqual(steps.map((u) => u.loss));
    expect(metrics.validation_loss).toHaveLength(2);
    expect(metrics.validation_loss[1].loss).toBeLessThan(metrics.validation_loss[0].loss);
    expect(metrics.config).toMatchObject({ max_steps: 3, learning_rate: 0.01, per_device_train_batch_size: 4, max_length: 48, seed: 0 });
    expect(metrics.tokens_per_second).toBeGreaterThan(0);
    // The best point is the last step here: its weights are the adapter itself, no best/ folder.
    expect(metrics.best).toEqual({ step: 3, loss: metrics.validation_loss[1].loss, adapter: null });
    expect(metrics.stopped_early).toBe(false);
    // Forgetting, measured by default on the built-in general text (the Brown slice the model never saw).
    expect(metrics.general_text).toMatchObject({ file: expect.stringContaining('brown-heldout.txt') });
    expect(metrics.general_text.tokens).toBeGreaterThan(1000);
    for (const k of ['perplexity_before', 'perplexity_after']) expect(metrics.general_text[k]).toBeGreaterThan(1);
    expect(metrics.general_text.perplexity_before).toBeCloseTo(Math.exp(metrics.general_text.loss_before), 6);

    // The adapter as written scores the validation file exactly as the run did at its last step.
    const e = await runCli(['eval', '--model', MODEL, '--adapter', out, '--data', valid, '--seq-len', '48', '--batch', '4', '--max-new-tokens', '0', '--json']);
    expect(e.code, e.stderr).toBe(0);
    expect(Math.abs((e.result().loss as number) - metrics.validation_loss[1].loss)).toBeLessThanOrEqual(1e-5 * metrics.validation_loss[1].loss);
  });

  it('Ctrl-C stops after the step it is in and writes the adapter of the steps done', async () => {
    const out = join(tmp, 'stopped');
    let sent = false;
    const r = await runCli(['train', ...common(out), '--method', 'bottleneck', '--size', '4', '--grad-accum', '2', '--steps', '50', '--general', 'none'], {
      onLine: (line, child) => {
        const e = JSON.parse(line);
        if (!sent && e.event === 'train' && e.kind === 'step') {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    const result = r.result();
    expect(result.status).toBe('stopped');
    expect(result.steps).toBeGreaterThanOrEqual(1);
    expect(result.steps).toBeLessThan(50);
    expect(readdirSync(out).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'metrics.json']);
    expect(parseAdapterConfig(readFileSync(join(out, 'adapter_config.json'), 'utf8')).method.peft_type).toBe('BOTTLENECK');
  });

  it('names a bad dataset line and a busy --out, and writes nothing', async () => {
    const bad = join(tmp, 'bad.jsonl');
    writeFileSync(bad, '{"prompt": "Ahoy", "completion": " matey"}\n{"prompt": 3, "completion": "x"}\n');
    const out = join(tmp, 'never');
    const r = await runCli(['train', '--model', MODEL, '--data', bad, '--method', 'prefix', '--out', out, '--json']);
    expect(r.code).toBe(1);
    expect(r.error().problems?.join('\n')).toMatch(/bad\.jsonl, line 2/);
    expect(existsSync(out)).toBe(false);

    const used = join(tmp, 'used');
    mkdirSync(used);
    writeFileSync(join(used, 'notes.txt'), 'mine');
    const u = await runCli(['train', '--model', MODEL, '--data', train, '--method', 'lora', '--out', used, '--json']);
    expect(u.code).toBe(1);
    expect(u.error().message).toMatch(/the folder is not empty/);
    expect(readdirSync(used)).toEqual(['notes.txt']);
  });
});

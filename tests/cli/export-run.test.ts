// `lora-playground export-run`, the real command in a subprocess: `train`'s flags plus --base-model and
// --out FILE.zip make the plan `train` would run and write it for TRL and Accelerate. Its .zip holds
// the settings given (sft.yaml and playground.json), exactly the examples of the files given, the
// Accelerate configs on --gpus, and passes tests/python/check_trl_export.py; bad input is named and
// leaves no file behind.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREFERENCE_NOTE } from '../../src/lib/data';
import { readZip } from '../../src/lib/peft/zip.ts';
import { ROOT, runCli } from './run.ts';

const MODEL = 'models/brown-llama-4m';
const BASE = 'HuggingFaceTB/SmolLM2-360M-Instruct';
let tmp: string;
let train: string;
let valid: string;
let lines: string[];
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-playground-export-'));
  lines = readFileSync(join(ROOT, 'static/samples/pirate-qa.jsonl'), 'utf8').trim().split('\n');
  train = join(tmp, 'pirate-train.jsonl');
  valid = join(tmp, 'pirate-valid.jsonl');
  writeFileSync(train, lines.slice(0, -4).join('\n') + '\n');
  writeFileSync(valid, lines.slice(-4).join('\n') + '\n');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const entries = async (zip: string) => new Map((await readZip(new Uint8Array(readFileSync(zip)))).map((e) => [e.name, new TextDecoder().decode(e.data)]));

describe('lora-playground export-run', () => {
  it("writes train's plan for TRL: the settings given, the examples of the files given, the Accelerate configs on --gpus", async () => {
    const out = join(tmp, 'run.zip');
    const r = await runCli([
      'export-run', '--model', MODEL, '--data', train, '--valid', valid, '--method', 'lora', '--r', '4', '--alpha', '8', '--targets', 'q_proj,v_proj',
      '--steps', '30', '--lr', '1e-3', '--batch', '4', '--grad-accum', '2', '--seq-len', '64', '--warmup', '3', '--eval-every', '5', '--seed', '7',
      '--base-model', BASE, '--gpus', '4', '--out', out, '--json',
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const result = r.result();
    expect(result).toMatchObject({ command: 'export-run', train_command: 'trl sft --config sft.yaml', out, base_model: BASE, gpus: 4, steps: 30, train_examples: 28, validation_examples: 4 });
    expect(result.method).toEqual({ peft_type: 'LORA', r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: ['q_proj', 'v_proj'], use_rslora: false, layers_to_transform: null });
    expect(result.config).toMatchObject({ max_steps: 30, learning_rate: 1e-3, per_device_train_batch_size: 4, gradient_accumulation_steps: 2, max_length: 64, warmup_steps: 3, eval_steps: 5, seed: 7 });

    const files = await entries(out);
    expect([...files.keys()]).toEqual(result.files);
    const sft = files.get('sft.yaml')!;
    for (const line of [
      `model_name_or_path: ${BASE}`, 'lora_r: 4', 'lora_alpha: 8', 'lora_target_modules:\n  - q_proj\n  - v_proj', 'max_steps: 30', 'learning_rate: 0.001',
      'per_device_train_batch_size: 4', 'gradient_accumulation_steps: 2', 'max_length: 64', 'warmup_steps: 3', 'eval_steps: 5', 'seed: 7', 'completion_only_loss: true',
    ]) {
      expect(sft).toContain(`\n${line}\n`);
    }
    expect(JSON.parse(files.get('playground.json')!).config).toEqual(result.config);
    // the validation file is the validation split, as given; the training file the training split
    const records = (name: string) => files.get(name)!.trim().split('\n').map((l) => JSON.parse(l));
    expect(records('data/valid.jsonl')).toEqual(lines.slice(-4).map((l) => JSON.parse(l)));
    expect(records('data/train.jsonl')).toEqual(lines.slice(0, -4).map((l) => JSON.parse(l)));
    expect(files.get('accelerate/ddp.yaml')).toContain('\nnum_processes: 4\n');
    expect(files.get('README.md')).toContain('| `accelerate/ddp.yaml` | MULTI_GPU | 4 | 4 × 2 × 4 = 32 |');

    const check = JSON.parse(execFileSync('python3', [join(ROOT, 'tests/python/check_trl_export.py'), out], { encoding: 'utf8' }).trim());
    expect(check.problems).toEqual([]);
  });

  it('a bottleneck run exports with the note saying LoRA stands in for it, on stderr and in the README', async () => {
    const out = join(tmp, 'bottleneck.zip');
    const r = await runCli(['export-run', '--model', MODEL, '--data', train, '--method', 'bottleneck', '--size', '8', '--base-model', BASE, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: PEFT has no bottleneck adapter, so TRL cannot train this run's method/);
    expect(r.stdout).toContain(`${out}:\n  README.md\n  sft.yaml\n`);
    expect((await entries(out)).get('README.md')).toMatch(/PEFT has no bottleneck adapter/);
  });

  it('names bad input and writes nothing: preference data (as the page says it), an --out that is not a new .zip, no --base-model', async () => {
    const prefs = join(tmp, 'prefs.jsonl');
    writeFileSync(prefs, '{"prompt": "Hi", "chosen": "Hello!", "rejected": "Go away."}\n{"prompt": "Bye", "chosen": "Farewell!", "rejected": "Finally."}\n');
    const out = join(tmp, 'never.zip');
    const p = await runCli(['export-run', '--model', MODEL, '--data', prefs, '--method', 'lora', '--base-model', BASE, '--out', out, '--json']);
    expect(p.code).toBe(1);
    expect(p.error().message).toContain(PREFERENCE_NOTE);
    expect(existsSync(out)).toBe(false);

    const folder = await runCli(['export-run', '--model', MODEL, '--data', train, '--method', 'lora', '--base-model', BASE, '--out', join(tmp, 'run-folder'), '--json']);
    expect(folder.code).toBe(1);
    expect(folder.error().message).toMatch(/name a \.zip file/);

    const taken = join(tmp, 'taken.zip');
    writeFileSync(taken, 'mine');
    const t = await runCli(['export-run', '--model', MODEL, '--data', train, '--method', 'lora', '--base-model', BASE, '--out', taken, '--json']);
    expect(t.code).toBe(1);
    expect(t.error().message).toMatch(/already exists/);
    expect(readFileSync(taken, 'utf8')).toBe('mine');

    const u = await runCli(['export-run', '--model', MODEL, '--data', train, '--method', 'lora', '--out', out, '--json']);
    expect(u.code).toBe(2);
    expect(u.error().message).toMatch(/missing --base-model ID/);
  });
});

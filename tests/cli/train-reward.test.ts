// `lora-playground train --objective reward` and `lora-playground score`, the real commands in a
// subprocess: a reward model (LoRA + score head) trained on tests/fixtures/preferences.jsonl reports
// its loss and pairwise accuracy per step and validation, saves as PEFT saves a SEQ_CLS adapter (the
// head under modules_to_save), and `score` reads it back and rates answers; a language model's adapter
// is refused by `score` with the reason.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSafetensors } from '../../src/lib/model/safetensors';
import { runCli, type CliEvent } from './run.ts';

const MODEL = 'models/brown-llama-4m';
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-playground-reward-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const updates = (events: CliEvent[]) => events.filter((e) => e.event === 'train');

describe('lora-playground train --objective reward, then score', () => {
  it('trains a reward model, saves it as a SEQ_CLS adapter with its score head, and scores answers with it', { timeout: 1_800_000 }, async () => {
    const rm = join(tmp, 'rm');
    const r = await runCli(['train', '--general', 'none', '--model', MODEL, '--data', 'tests/fixtures/preferences.jsonl', '--objective', 'reward', '--method', 'lora', '--r', '4', '--alpha', '8', '--seq-len', '16', '--batch', '4', '--steps', '2', '--eval-every', '2', '--warmup', '0', '--out', rm, '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const u = updates(r.events());
    expect(u.find((x) => x.kind === 'start')).toMatchObject({ objective: 'reward', rows: 36, validationRows: 4, batch: 4 });
    const steps = u.filter((x) => x.kind === 'step') as unknown as { loss: number; metrics: Record<string, number> }[];
    const validations = u.filter((x) => x.kind === 'validation') as unknown as { step: number; loss: number; metrics: Record<string, number> }[];
    expect(steps).toHaveLength(2);
    expect(validations.map((v) => v.step)).toEqual([0, 2]);
    for (const p of [...steps, ...validations]) {
      expect(Number.isFinite(p.loss) && p.loss > 0).toBe(true);
      const acc = p.metrics['rewards/accuracies'];
      expect(acc >= 0 && acc <= 1).toBe(true);
      // the loss is −log σ of the margins: the mean margin and the loss agree in direction
      expect(p.metrics['rewards/margins']).toBeCloseTo(p.metrics['rewards/chosen'] - p.metrics['rewards/rejected'], 5);
    }
    // validation has 2 pairs: its accuracy is 0, 0.5 or 1
    for (const v of validations) expect([0, 0.5, 1]).toContain(v.metrics['rewards/accuracies']);
    console.log(`reward model: step losses ${steps.map((s) => s.loss.toFixed(4)).join(', ')}; validation ${validations.map((v) => `loss ${v.loss.toFixed(4)} accuracy ${v.metrics['rewards/accuracies']}`).join(' → ')}`);

    const config = JSON.parse(readFileSync(join(rm, 'adapter_config.json'), 'utf8'));
    expect([config.task_type, config.modules_to_save, config.peft_type, config.r]).toEqual(['SEQ_CLS', ['score'], 'LORA', 4]);
    const st = parseSafetensors(readFileSync(join(rm, 'adapter_model.safetensors')));
    expect(st.tensors.find((t) => t.name === 'base_model.model.score.weight')?.shape).toEqual([1, 256]);

    const s = await runCli(['score', '--model', MODEL, '--adapter', rm, '--prompt', 'The color of the sky is', '--answer', ' blue.', '--seq-len', '16', '--json']);
    expect(s.code, s.stderr + s.stdout).toBe(0);
    const rewards = s.result().rewards as { answer: string; reward: number }[];
    expect(rewards.map((x) => x.answer)).toEqual([' blue.']);
    expect(Number.isFinite(rewards[0].reward)).toBe(true);
    console.log(`score of " blue." after "The color of the sky is": ${rewards[0].reward}`);

    // a language model's adapter is not a reward model
    const lm = join(tmp, 'lm');
    const t = await runCli(['train', '--general', 'none', '--model', MODEL, '--data', 'static/samples/pirate-qa.jsonl', '--method', 'lora', '--r', '2', '--seq-len', '32', '--batch', '2', '--steps', '1', '--warmup', '0', '--out', lm, '--json']);
    expect(t.code, t.stderr + t.stdout).toBe(0);
    const bad = await runCli(['score', '--model', MODEL, '--adapter', lm, '--prompt', 'p', '--answer', ' a', '--json']);
    expect(bad.code).toBe(1);
    expect(bad.error().message).toMatch(/has no score head .* not a reward model/);
  });
});

// `lora-playground train --objective dpo`, the real command in a subprocess: DPO on a preference file
// (tests/fixtures/preferences.jsonl) writes a PEFT adapter and a metrics.json carrying TRL's metrics,
// the same numbers its JSON events stream; `--from-adapter` continues a saved adapter (here an SFT
// adapter, then DPO on top, as TRL's "ref" adapter does it: the reference is the starting adapter, so
// the run's first validation is ln 2 with no reward, on log-probs that are the adapter's, not the
// base's). Mistakes are named before the model loads.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREFERENCE_NOTE } from '../../src/lib/data';
import { parseAdapterConfig } from '../../src/lib/peft/config.ts';
import { PREFERENCE_METRICS } from '../../src/lib/train/objective.ts';
import { runCli, type CliEvent } from './run.ts';

const MODEL = 'models/brown-llama-4m';
const PREFS = 'tests/fixtures/preferences.jsonl';
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-playground-dpo-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const LN2 = Math.fround(Math.LN2);
const dpo = (out: string, ...more: string[]) => ['train', '--general', 'none', '--model', MODEL, '--data', PREFS, '--objective', 'dpo', '--beta', '0.1', '--seq-len', '16', '--batch', '4', '--steps', '2', '--eval-every', '2', '--warmup', '0', '--out', out, '--json', ...more];
const updates = (events: CliEvent[]) => events.filter((e) => e.event === 'train');
const validations = (events: CliEvent[]) => updates(events).filter((u) => u.kind === 'validation') as unknown as { step: number; loss: number; metrics: Record<string, number> }[];

describe('lora-playground train --objective dpo', () => {
  let baseLogps: number;

  it('trains LoRA with DPO and writes the adapter and metrics.json with TRL\'s metrics', async () => {
    const out = join(tmp, 'dpo');
    const r = await runCli(dpo(out, '--method', 'lora', '--r', '4', '--alpha', '8'));
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const u = updates(r.events());
    // The reference log-probs come first, with the base model; then the run starts.
    const reference = u.findIndex((x) => x.kind === 'stage' && /reference log-probabilities of 20 pairs once, with the base model/.test(String(x.message)));
    const start = u.findIndex((x) => x.kind === 'start');
    expect(reference).toBeGreaterThanOrEqual(0);
    expect(start).toBeGreaterThan(reference);
    expect(u[start]).toMatchObject({ kind: 'start', step: 0, totalSteps: 2, rows: 36, validationRows: 4, batch: 4, seqLen: 16, objective: 'dpo' });
    const steps = u.filter((x) => x.kind === 'step');
    expect(steps.map((x) => x.step)).toEqual([1, 2]);
    for (const s of steps) expect(Object.keys(s.metrics as object).sort()).toEqual([...PREFERENCE_METRICS].sort());
    const [v0, v2] = validations(r.events());
    expect([v0.step, v2.step]).toEqual([0, 2]);
    // A fresh LoRA changes nothing: the policy is its reference.
    expect(Math.abs(v0.loss - LN2)).toBeLessThanOrEqual(2 ** -24);
    expect([v0.metrics['rewards/margins'], v0.metrics['rewards/accuracies']]).toEqual([0, 0]);
    baseLogps = v0.metrics['logps/chosen'];

    expect(r.result()).toMatchObject({ command: 'train', status: 'finished', steps: 2, objective: { type: 'dpo', beta: 0.1, loss_type: 'sigmoid', label_smoothing: 0 } });
    expect(readdirSync(out).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'metrics.json']);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.objective).toEqual({ type: 'dpo', beta: 0.1, loss_type: 'sigmoid', label_smoothing: 0 });
    expect(metrics.from_adapter).toBeNull();
    expect(metrics.data.format).toBe('preference');
    expect(metrics.train_loss.map((p: { metrics: unknown }) => p.metrics)).toEqual(steps.map((s) => s.metrics));
    expect(metrics.train_metrics).toEqual(steps[1].metrics);
    expect(metrics.validation_metrics).toEqual(v2.metrics);
    expect(parseAdapterConfig(readFileSync(join(out, 'adapter_config.json'), 'utf8')).method).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8 });
  });

  it('--from-adapter continues an SFT adapter with DPO: the starting adapter is the reference', async () => {
    const sft = join(tmp, 'sft');
    const s = await runCli(['train', '--general', 'none', '--model', MODEL, '--data', 'static/samples/pirate-qa.jsonl', '--method', 'lora', '--r', '4', '--alpha', '8', '--targets', 'q_proj,v_proj', '--seq-len', '48', '--batch', '4', '--lr', '2e-2', '--steps', '3', '--warmup', '0', '--out', sft, '--json']);
    expect(s.code, s.stderr + s.stdout).toBe(0);

    const out = join(tmp, 'sft-dpo');
    const r = await runCli(dpo(out, '--from-adapter', sft));
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(updates(r.events()).some((x) => x.kind === 'stage' && /with the starting adapter/.test(String(x.message)))).toBe(true);
    const [v0] = validations(r.events());
    expect(Math.abs(v0.loss - LN2)).toBeLessThanOrEqual(2 ** -24);
    expect([v0.metrics['rewards/margins'], v0.metrics['rewards/accuracies']]).toEqual([0, 0]);
    // ...on the SFT adapter's log-probs, not the base's
    expect(Number.isFinite(baseLogps)).toBe(true);
    expect(v0.metrics['logps/chosen']).not.toBe(baseLogps);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.from_adapter).toBe(sft);
    const method = (dir: string) => parseAdapterConfig(readFileSync(join(dir, 'adapter_config.json'), 'utf8')).method;
    expect(method(out)).toEqual(method(sft));
  });

  it('names mistakes before the model loads', async () => {
    const out = join(tmp, 'never');
    const fails = async (...args: string[]) => {
      const r = await runCli(args);
      return { code: r.code, message: r.error().message };
    };
    const base = ['train', '--model', MODEL, '--out', out, '--json'];
    expect(await fails(...base, '--data', 'static/samples/pirate-qa.jsonl', '--method', 'lora', '--objective', 'dpo')).toMatchObject({
      code: 1,
      message: expect.stringContaining('pirate-qa.jsonl is {prompt, completion} data, but a preference objective (DPO, SimPO, ORPO) trains on pairs'),
    });
    expect(await fails(...base, '--data', PREFS, '--method', 'lora')).toMatchObject({ code: 1, message: expect.stringContaining(PREFERENCE_NOTE) });
    expect(await fails(...base, '--data', PREFS, '--method', 'lora', '--beta', '0.2')).toEqual({ code: 2, message: '--beta is a setting of --objective dpo, simpo or orpo, not sft' });
    expect(await fails(...base, '--data', PREFS, '--method', 'lora', '--objective', 'simpo', '--loss-type', 'ipo')).toEqual({ code: 2, message: '--loss-type is a setting of --objective dpo, not simpo' });
    expect(await fails(...base, '--data', PREFS, '--objective', 'dpo')).toEqual({ code: 2, message: 'missing --method METHOD (or --from-adapter DIR, whose method the run continues)' });
    expect(await fails(...base, '--data', PREFS, '--objective', 'dpo', '--from-adapter', join(tmp, 'dpo'), '--r', '8')).toEqual({
      code: 2,
      message: '--r: --from-adapter continues an adapter whose settings are fixed; leave --r out',
    });
    expect(await fails(...base, '--data', PREFS, '--objective', 'dpo', '--from-adapter', join(tmp, 'dpo'), '--method', 'prefix')).toMatchObject({ code: 2, message: expect.stringMatching(/is lora; leave --method out or give lora/) });
    expect(await fails(...base, '--data', PREFS, '--objective', 'dpo', '--from-adapter', join(tmp, 'nothing-here'))).toMatchObject({ code: 1, message: expect.stringMatching(/--from-adapter .*nothing-here: no such folder or .zip file/) });
    expect(await fails(...base, '--data', PREFS, '--method', 'lora', '--objective', 'dpo', '--loss-type', 'sigmoid', '--label-smoothing', '0.1')).toMatchObject({
      code: 1,
      message: expect.stringContaining('label smoothing changes only the robust loss'),
    });
  });
});

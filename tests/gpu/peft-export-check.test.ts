// An adapter trained by the engine, exported in PEFT's format, rebuilt independently: numpy
// (tests/python/check_adapter.py) recomputes the tuned logits from the base weights plus the exported
// files, and they must match the logits the engine produced with the adapter attached (1e-3). Then the
// same files, imported back and attached to a fresh model, must give the same logits again.
//
// For LoRA, bottleneck adapters and prefix tuning: a few AdamW steps on one batch move the adapter away
// from its identity start, so the check compares something that matters (the adapter's effect on the
// logits is asserted to be well above the tolerance).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { Engine } from '../../src/lib/engine.ts';
import { writeSafetensors } from '../../src/lib/model/safetensors.ts';
import { exportAdapter, importAdapter, readAdapterFiles } from '../../src/lib/peft/adapter.ts';
import type { AdapterMethod } from '../../src/lib/peft/config.ts';
import { defaultMethod, defaultTrainConfig } from '../../src/lib/train/config.ts';
import { DEFAULT_MODEL, ROOT, fixture, i32, maxAbsDiff, modelFiles } from './fixtures.ts';

const gpu = useGpu();
const CHECK = join(ROOT, 'tests', 'python', 'check_adapter.py');
const TOL = 1e-3;

interface CheckOutput {
  check: string;
  peft_type: string;
  max_abs_error: number;
  max_adapter_effect: number;
  tol: number;
}

function runCheck(adapter: string, logits: string): { status: number; out: CheckOutput | null; text: string } {
  try {
    const text = execFileSync('python3', [CHECK, '--model', DEFAULT_MODEL, '--adapter', adapter, '--logits', logits, '--tol', String(TOL)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { status: 0, out: JSON.parse(text.trim().split('\n').pop()!), text };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    const text = `${err.stdout ?? ''}${err.stderr ?? ''}`;
    let out: CheckOutput | null = null;
    try {
      out = JSON.parse((err.stdout ?? '').trim().split('\n').pop() ?? '');
    } catch {
      // not JSON: python failed before printing
    }
    return { status: err.status ?? -1, out, text };
  }
}

const cases: { name: string; method: AdapterMethod; lr: number; as: 'folder' | 'zip' }[] = [
  { name: 'LoRA on every projection', method: { ...defaultMethod('LORA'), r: 4, lora_alpha: 8 }, lr: 1e-2, as: 'folder' },
  {
    name: 'bottleneck adapter after attention and MLP',
    method: { peft_type: 'BOTTLENECK', bottleneck_size: 8, placement: ['self_attn', 'mlp'], non_linearity: 'relu' },
    lr: 1e-2,
    as: 'zip',
  },
  { name: 'prefix tuning', method: { peft_type: 'PREFIX_TUNING', num_virtual_tokens: 4 }, lr: 5e-2, as: 'folder' },
];

describe.each(cases)('PEFT export of $name', ({ method, lr, as }) => {
  it('numpy rebuilds the engine’s tuned logits from the exported files, and importing them back reproduces them', async () => {
    const ref = fixture('forward.safetensors');
    const ids = i32(ref, 'input_ids');
    const targets = i32(ref, 'targets');
    const [B, T] = ref.byName.get('input_ids')!.shape;
    const dir = mkdtempSync(join(tmpdir(), 'peft-export-check-'));
    const engine = await Engine.load(modelFiles(DEFAULT_MODEL), { gpu: gpu() });
    let fresh: Engine | null = null;
    try {
      const baseLogits = await engine.logits(ids, B, T);
      engine.attach(method, 1);
      engine.startTraining({ ...defaultTrainConfig(), per_device_train_batch_size: B, max_length: T, max_steps: 4, warmup_steps: 0, max_grad_norm: 0 });
      const losses: number[] = [];
      for (let s = 0; s < 4; s++) losses.push((await engine.trainStep([{ B, T, ids, targets }], lr)).loss);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[3]).toBeLessThan(losses[0]);

      const tuned = await engine.logits(ids, B, T);
      const base = { name: 'brown-llama-4m', config: engine.config };
      const exported = exportAdapter(method, await engine.exportWeights(), base);

      let adapterPath: string;
      if (as === 'zip') {
        adapterPath = join(dir, 'adapter.zip');
        writeFileSync(adapterPath, exported.zip());
      } else {
        adapterPath = join(dir, 'adapter');
        execFileSync('mkdir', ['-p', adapterPath]);
        for (const f of exported.files) writeFileSync(join(adapterPath, f.name), f.data);
      }
      const logitsFile = (name: string, logits: Float32Array) => {
        const path = join(dir, name);
        writeFileSync(
          path,
          writeSafetensors({
            input_ids: { dtype: 'I32', shape: [B, T], data: ids },
            logits: { dtype: 'F32', shape: [B, T, engine.config.vocabSize], data: logits },
          }),
        );
        return path;
      };

      const check = runCheck(adapterPath, logitsFile('engine_logits.safetensors', tuned));
      console.log(`check_adapter.py (${as}): ${check.text.trim()}`);
      expect(check.status, check.text).toBe(0);
      expect(check.out?.peft_type).toBe(method.peft_type);
      expect(check.out!.max_abs_error).toBeLessThanOrEqual(TOL);
      // The adapter changed the logits far more than the tolerance: the check had something to catch.
      expect(check.out!.max_adapter_effect).toBeGreaterThan(20 * TOL);
      // And the check does catch logits that are not the adapter's: the base model's own fail it.
      const control = runCheck(adapterPath, logitsFile('base_logits.safetensors', baseLogits));
      expect(control.status, control.text).toBe(1);
      expect(control.out!.max_abs_error).toBeGreaterThan(TOL);

      // Import the same files back into a fresh model: the same logits.
      const files = await readAdapterFiles(
        as === 'zip' ? [{ name: 'adapter.zip', bytes: exported.zip() }] : exported.files.map((f) => ({ name: f.name, bytes: f.data })),
      );
      const imported = importAdapter(files, base);
      fresh = await Engine.load(modelFiles(DEFAULT_MODEL), { gpu: gpu() });
      fresh.attach(imported.config.method, 99);
      fresh.importWeights(imported.tensors);
      const reimported = await fresh.logits(ids, B, T);
      expect(maxAbsDiff(reimported, tuned)).toBe(0);
    } finally {
      engine.destroy();
      fresh?.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Reading the PyTorch reference fixtures (tests/fixtures/README.md) and model folders in tests.
import type { LoraConfig } from '../../src/lib/adapters/config.ts';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors, tensorBytes, tensorToFloat32, type SafetensorsFile } from '../../src/lib/model/safetensors.ts';
import type { Attached, Model, ModelFiles } from '../../src/lib/model/model.ts';
import type { Batch } from '../../src/lib/data/batches.ts';
import { createTensor, readF32, Recorder } from '../../src/lib/gpu/index.ts';
import { encodeGradients } from '../../src/lib/train/step.ts';

export const ROOT = join(__dirname, '..', '..');
export const FIXTURES = join(ROOT, 'tests', 'fixtures');
export const DEFAULT_MODEL = join(ROOT, 'models', 'brown-llama-4m');

export function modelFiles(dir: string): ModelFiles {
  const gen = join(dir, 'generation_config.json');
  return {
    config: readFileSync(join(dir, 'config.json'), 'utf8'),
    generationConfig: existsSync(gen) ? readFileSync(gen, 'utf8') : undefined,
    weights: [new Uint8Array(readFileSync(join(dir, 'model.safetensors')))],
  };
}

export function fixture(name: string): SafetensorsFile {
  return parseSafetensors(new Uint8Array(readFileSync(join(FIXTURES, name))), { source: name });
}

export function fixtureJson<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
}

export const f32 = tensorToFloat32;

/** An I32 tensor of a fixture (token ids, targets), copied out of the file. */
export function i32(file: SafetensorsFile, name: string): Int32Array {
  const dtype = file.byName.get(name)?.dtype;
  if (dtype !== 'I32') throw new Error(`tensor "${name}" is ${dtype ?? 'missing'}, not I32`);
  return new Int32Array(Uint8Array.from(tensorBytes(file, name)).buffer); // a copy: aligned, and never a Node Buffer's pool
}

/**
 * Fills every lora_B of an attached LoRA adapter with `rand`'s values, centred on zero and `scale` wide.
 * PEFT starts B at zero, where the adapter changes nothing and lora_A gets no gradient. Returns all the
 * adapter's parameters as written.
 */
export async function randomizeLoraB(a: Attached, rand: () => number, scale = 1): Promise<Float32Array> {
  const theta = await a.params.readAll();
  for (const s of a.def.specs) {
    if (s.name.endsWith('lora_B.weight')) a.params.insert(theta, s.name, Float32Array.from({ length: s.shape[0] * s.shape[1] }, () => (rand() - 0.5) * scale));
  }
  a.params.writeAll(theta);
  return theta;
}

/** Largest |a-b| over two arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    m = Number.isNaN(d) ? Infinity : Math.max(m, d);
  }
  return m;
}

/** ‖a-b‖∞ / ‖b‖∞: the relative error of a whole tensor. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ref = 0;
  for (let i = 0; i < b.length; i++) ref = Math.max(ref, Math.abs(b[i]));
  return maxAbsDiff(a, b) / Math.max(ref, 1e-30);
}

/** Every token a generation yields, and why it stopped. */
export async function collect(it: AsyncGenerator<number, string>): Promise<{ tokens: number[]; stop: string }> {
  const tokens: number[] = [];
  for (;;) {
    const r = await it.next();
    if (r.done) return { tokens, stop: r.value };
    tokens.push(r.value);
  }
}

/** A LoRA config with PEFT's names (the rest of PEFT's defaults). */
export function lora(r: number, lora_alpha: number, target_modules: string[] | string, extra: Partial<LoraConfig> = {}): LoraConfig {
  return { peft_type: 'LORA', r, lora_alpha, lora_dropout: 0, target_modules, use_rslora: false, layers_to_transform: null, ...extra };
}

/** One forward and backward pass over `b`, as a training step runs it; returns [loss, counted tokens]. */
export async function gradientPass(model: Model, b: Batch): Promise<Float32Array> {
  const loss = createTensor(model.gpu, [2]);
  const rec = new Recorder(model.gpu);
  encodeGradients(rec, model, [b], loss);
  rec.submit();
  model.transformer.releaseTransient();
  const out = await readF32(model.gpu, loss);
  loss.buffer.destroy();
  return out;
}

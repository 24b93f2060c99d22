// A PEFT adapter folder for the command line's tests: the LoRA of tests/fixtures (r=4 on every
// projection, fixed non-zero A and B, made by PyTorch) written by peft/ exactly as the page exports.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelConfig } from '../../src/lib/model/config.ts';
import { parseSafetensors, tensorToFloat32 } from '../../src/lib/model/safetensors.ts';
import { exportAdapter, parseAdapterConfig, type ExportedAdapter } from '../../src/lib/peft';
import { MODEL, ROOT } from './run.ts';

/** Writes adapter_config.json and adapter_model.safetensors into `dir`; returns what was written. */
export function writeFixtureLora(dir: string): ExportedAdapter {
  const st = parseSafetensors(new Uint8Array(readFileSync(join(ROOT, 'tests/fixtures/lora.safetensors'))));
  const weights = st.tensors.filter((t) => /\.lora_[AB]\.weight$/.test(t.name));
  const tensors = new Map(weights.map((t) => [t.name, { shape: t.shape.slice(), data: tensorToFloat32(st, t.name) }]));
  const base = { name: 'brown-llama-4m', config: parseModelConfig(readFileSync(join(MODEL, 'config.json'), 'utf8')) };
  const { method } = parseAdapterConfig(readFileSync(join(ROOT, 'tests/fixtures/lora.json'), 'utf8'));
  const exported = exportAdapter(method, tensors, base);
  mkdirSync(dir, { recursive: true });
  for (const f of exported.files) writeFileSync(join(dir, f.name), f.data);
  return exported;
}

// A small LoRA adapter for the shipped model with seeded random weights, as the .zip a user imports:
// a tuned side for tests that need one without training first.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LoraConfig } from '../../src/lib/adapters/config.ts';
import { parseModelConfig } from '../../src/lib/model/config.ts';
import { exportAdapter, expectedAdapterTensors, nameAdapterWeights, type AdapterTensors } from '../../src/lib/peft/adapter.ts';
import type { BaseModel } from '../../src/lib/peft/config.ts';
import { writeZip } from '../../src/lib/peft/zip.ts';
import { createRng } from '../../src/lib/random.ts';
import { ROOT } from './site.ts';

/** LoRA r 2 on q_proj and v_proj, weights uniform in ±scale/2 drawn from `seed`, saved under `name`. */
export function randomLoraZip(name: string, seed = 7, scale = 0.1): Buffer {
  const base: BaseModel = { name: 'brown-llama-4m', config: parseModelConfig(readFileSync(resolve(ROOT, 'models/brown-llama-4m/config.json'), 'utf8')) };
  const method: LoraConfig = { peft_type: 'LORA', r: 2, lora_alpha: 4, lora_dropout: 0, target_modules: ['q_proj', 'v_proj'], use_rslora: false, layers_to_transform: null };
  const rng = createRng(seed);
  const tensors: AdapterTensors = new Map();
  for (const [key, shape] of expectedAdapterTensors({ method, prefixShape: null }, base)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => (rng() - 0.5) * scale);
    tensors.set(key, { shape, data });
  }
  const ex = exportAdapter(method, tensors, base);
  const enc = new TextEncoder();
  return Buffer.from(
    writeZip([
      { name: 'adapter_config.json', data: enc.encode(ex.configJson) },
      { name: 'adapter_model.safetensors', data: nameAdapterWeights(ex.weights, name) },
    ]),
  );
}

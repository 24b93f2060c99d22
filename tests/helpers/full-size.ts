// Full-size checkpoints without the Hub: a model folder with a real model's config.json (its shapes,
// vocabulary, tying) and a model.safetensors of the real dtype and size, filled with seeded random
// weights. Made at test time into a temporary folder and never committed; tests serve it in the
// Hub's layout (tests/e2e/hub-server.ts) and load it as they would the real repo.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRng } from '../../src/lib/random.ts';
import { parseModelConfig } from '../../src/lib/model/config.ts';
import { architectureFor } from '../../src/lib/model/architecture.ts';
import { findModel } from '../../src/lib/base/catalog.ts';
import { writeSafetensors, type TensorToWrite } from '../../src/lib/model/safetensors-write.ts';

/** HuggingFaceTB/SmolLM2-135M's config.json (Llama: 30 layers, GQA 9/3 heads, tied, BF16). */
export const SMOLLM2_135M = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 0,
  eos_token_id: 0,
  hidden_act: 'silu',
  hidden_size: 576,
  initializer_range: 0.041666666666666664,
  intermediate_size: 1536,
  max_position_embeddings: 8192,
  mlp_bias: false,
  model_type: 'llama',
  num_attention_heads: 9,
  num_hidden_layers: 30,
  num_key_value_heads: 3,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: null,
  rope_theta: 100000,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  use_cache: true,
  vocab_size: 49152,
};

const catalogConfig = (id: string) => {
  const entry = findModel(id);
  if (!entry) throw new Error(`${id} is not in the catalog`);
  return entry.config;
};

/**
 * The checkpoints a test or `npm run bench -- --model NAME` can ask for: SmolLM2-135M's published
 * config, and the other catalog models' configs (src/lib/base/catalog.ts: the shapes that matter).
 */
export const FULL_SIZE: Record<string, Record<string, unknown>> = {
  'smollm2-135m': SMOLLM2_135M,
  'smollm2-360m': catalogConfig('HuggingFaceTB/SmolLM2-360M-Instruct'),
  'qwen2.5-0.5b': catalogConfig('Qwen/Qwen2.5-0.5B-Instruct'),
  'qwen3-0.6b': catalogConfig('Qwen/Qwen3-0.6B'),
  gpt2: catalogConfig('openai-community/gpt2'),
};

/** BF16 bits of f32 values (round to nearest even), as torch stores a bfloat16 tensor. */
function toBf16(x: Float32Array): Uint16Array {
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const b = bits[i];
    out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return out;
}

/**
 * Writes config.json and model.safetensors (BF16, or F32 where config.torch_dtype is float32) for `config` into `dir`: every tensor the
 * architecture stores, at its real shape; projections and embeddings uniform in ±initializer_range
 * (the logits stay small, so the loss starts near ln V), norm weights 1. Returns the weights' bytes.
 */
export function writeFullSizeCheckpoint(dir: string, config: Record<string, unknown>, seed = 0): number {
  const arch = architectureFor(parseModelConfig(JSON.stringify(config)));
  const rand = createRng(seed);
  // the published file's dtype: F32 where config.json says float32 (GPT-2), else BF16
  const f32 = config.torch_dtype === 'float32';
  const scale = Number(config.initializer_range ?? 0.02);
  const tensors: Record<string, TensorToWrite> = {};
  for (const p of arch.params) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const norm = /norm/.test(p.name);
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = norm ? 1 : (2 * rand() - 1) * scale;
    // Stored under the checkpoint's own name and layout (GPT-2's Conv1D weights are (in,out) there).
    const { names, transposed } = arch.source(p.name);
    const shape = transposed ? [p.shape[1], p.shape[0]] : p.shape;
    tensors[names[0]] = f32 ? { dtype: 'F32', shape, data: x } : { dtype: 'BF16', shape, data: toBf16(x) };
  }
  const bytes = writeSafetensors(tensors, { format: 'pt' });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'model.safetensors'), bytes);
  return bytes.byteLength;
}

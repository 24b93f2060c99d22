// The picker's catalog (src/lib/base/catalog.ts) against the models' published config.json files:
// each entry's parameter count is what the engine builds from that config, its weights size is the
// stored values at the config's dtype plus a safetensors header, the default LoRA targets
// ('all-linear', train/config.ts DEFAULTS) reach the architecture's projections, and the fields the
// page and the runtimes read are consistent.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { CATALOG, DEFAULT_MODEL_ID, findModel, isHubModelId } from '../../src/lib/base/catalog';
import { parseModelConfig } from '../../src/lib/model/config';
import { architectureFor } from '../../src/lib/model/architecture';
import { allLinears } from '../../src/lib/adapters/lora';
import { isTargetModule } from '../../src/lib/adapters/config';
import { DEFAULTS } from '../../src/lib/train/config';

const llama = (c: Record<string, unknown>) => ({ hidden_act: 'silu', rms_norm_eps: 1e-5, max_position_embeddings: 8192, ...c });
const smollm2_135m = llama({
  model_type: 'llama', vocab_size: 49152, hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30,
  num_attention_heads: 9, num_key_value_heads: 3, tie_word_embeddings: true, torch_dtype: 'bfloat16',
});
/**
 * Abridged published configs, with the dtype the checkpoint stores and the values it stores beyond
 * the engine's parameters (Qwen3-0.6B writes its tied lm_head out; GPT-2 each layer's (1,1,1024,1024)
 * causal-mask buffer attn.bias).
 */
const PUBLISHED: Record<string, { config: Record<string, unknown>; extra: number }> = {
  [DEFAULT_MODEL_ID]: { config: JSON.parse(readFileSync('models/brown-llama-4m/config.json', 'utf8')), extra: 0 },
  'HuggingFaceTB/SmolLM2-135M-Instruct': { config: smollm2_135m, extra: 0 },
  'HuggingFaceTB/SmolLM2-135M': { config: smollm2_135m, extra: 0 },
  'HuggingFaceTB/SmolLM2-360M-Instruct': {
    config: llama({
      model_type: 'llama', vocab_size: 49152, hidden_size: 960, intermediate_size: 2560, num_hidden_layers: 32,
      num_attention_heads: 15, num_key_value_heads: 5, tie_word_embeddings: true, torch_dtype: 'bfloat16',
    }),
    extra: 0,
  },
  'Qwen/Qwen2.5-0.5B-Instruct': {
    config: llama({
      model_type: 'qwen2', vocab_size: 151936, hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24,
      num_attention_heads: 14, num_key_value_heads: 2, tie_word_embeddings: true, rope_theta: 1e6, torch_dtype: 'bfloat16',
    }),
    extra: 0,
  },
  'Qwen/Qwen3-0.6B': {
    config: llama({
      model_type: 'qwen3', vocab_size: 151936, hidden_size: 1024, intermediate_size: 3072, num_hidden_layers: 28,
      num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, tie_word_embeddings: true, rope_theta: 1e6,
      attention_bias: false, torch_dtype: 'bfloat16',
    }),
    extra: 151936 * 1024,
  },
  'openai-community/gpt2': {
    config: { model_type: 'gpt2', vocab_size: 50257, n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024, torch_dtype: 'float32' },
    extra: 12 * 1024 * 1024,
  },
};
const BYTES: Record<string, number> = { float32: 4, bfloat16: 2, float16: 2 };

describe('catalog', () => {
  it('offers the issue\'s models, each once, the shipped default first', () => {
    expect(CATALOG[0].id).toBe(DEFAULT_MODEL_ID);
    expect(CATALOG.map((m) => m.id).sort()).toEqual(Object.keys(PUBLISHED).sort());
    expect(new Set(CATALOG.map((m) => m.label)).size).toBe(CATALOG.length);
    for (const m of CATALOG) expect(findModel(m.id)).toBe(m);
  });

  it.each(CATALOG.map((m) => [m.id, m] as const))('%s: parameter count and weights size follow from its config', (id, m) => {
    const { config, extra } = PUBLISHED[id];
    const arch = architectureFor(parseModelConfig(config));
    const params = arch.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    expect(m.params).toBe(params);
    const stored = (params + extra) * BYTES[config.torch_dtype as string];
    // the rest is the safetensors header (8 bytes + JSON): well under a megabyte
    expect(m.weightsBytes - stored).toBeGreaterThan(0);
    expect(m.weightsBytes - stored).toBeLessThan(1 << 20);
  });

  it.each(CATALOG.map((m) => [m.id, m] as const))('%s: the default LoRA targets reach every projection and only those', (id) => {
    const arch = architectureFor(parseModelConfig(PUBLISHED[id].config));
    const targets = DEFAULTS.methods.LORA.target_modules;
    const names = new Set(allLinears(arch).filter((l) => isTargetModule(targets, l.module)).map((l) => l.module.split('.').pop()));
    expect([...names].sort()).toEqual(
      arch.cfg.family === 'gpt2' ? ['c_attn', 'c_fc', 'c_proj'] : ['down_proj', 'gate_proj', 'k_proj', 'o_proj', 'q_proj', 'up_proj', 'v_proj'],
    );
  });

  it('hub entries name valid repos, ONNX repos apart only where the weights repo has none, and chat only for chat models', () => {
    for (const m of CATALOG) {
      if (m.source === 'shipped') {
        expect(m.onnx).toBeUndefined();
        continue;
      }
      expect(isHubModelId(m.id)).toBe(true);
      if (m.onnx !== undefined) {
        expect(isHubModelId(m.onnx)).toBe(true);
        expect(m.onnx).not.toBe(m.id);
      }
      expect(m.chat).toBe(/Instruct|Qwen3/.test(m.id));
      expect(m.size).toMatch(/^≈?\d+ (MB|GB)$/);
    }
  });
});

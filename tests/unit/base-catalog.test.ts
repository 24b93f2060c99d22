// The picker's catalog (src/lib/base/catalog.ts): each entry's parameter count (the published one) is
// what the engine builds from the config the entry carries, its weights size is the
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

/**
 * What the published checkpoints store beyond the engine's parameters: Qwen3-0.6B writes its tied
 * lm_head out, GPT-2 each layer's (1,1,1024,1024) causal-mask buffer attn.bias.
 */
const EXTRA_STORED: Record<string, number> = {
  'Qwen/Qwen3-0.6B': 151936 * 1024,
  'openai-community/gpt2': 12 * 1024 * 1024,
};
const BYTES: Record<string, number> = { float32: 4, bfloat16: 2, float16: 2 };

describe('catalog', () => {
  it('offers the issue\'s models, each once, the shipped default first', () => {
    expect(CATALOG[0].id).toBe(DEFAULT_MODEL_ID);
    expect(CATALOG.map((m) => m.id).sort()).toEqual([
      DEFAULT_MODEL_ID, 'HuggingFaceTB/SmolLM2-135M', 'HuggingFaceTB/SmolLM2-135M-Instruct', 'HuggingFaceTB/SmolLM2-360M-Instruct',
      'Qwen/Qwen2.5-0.5B-Instruct', 'Qwen/Qwen3-0.6B', 'openai-community/gpt2',
    ].sort());
    expect(new Set(CATALOG.map((m) => m.label)).size).toBe(CATALOG.length);
    for (const m of CATALOG) expect(findModel(m.id)).toBe(m);
  });

  it('the shipped model\'s config is its folder\'s config.json', () => {
    expect(JSON.parse(readFileSync('models/brown-llama-4m/config.json', 'utf8'))).toMatchObject(findModel(DEFAULT_MODEL_ID)!.config);
  });

  it.each(CATALOG.map((m) => [m.id, m] as const))('%s: parameter count and weights size follow from its config', (id, m) => {
    const config = m.config;
    const extra = EXTRA_STORED[id] ?? 0;
    const arch = architectureFor(parseModelConfig(config));
    const params = arch.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    expect(m.params).toBe(params);
    const stored = (params + extra) * BYTES[config.torch_dtype as string];
    // the rest is the safetensors header (8 bytes + JSON): well under a megabyte
    expect(m.weightsBytes - stored).toBeGreaterThan(0);
    expect(m.weightsBytes - stored).toBeLessThan(1 << 20);
  });

  it.each(CATALOG.map((m) => [m.id, m] as const))('%s: the default LoRA targets reach every projection and only those', (id) => {
    const arch = architectureFor(parseModelConfig(findModel(id)!.config));
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

import { describe, expect, it } from 'vitest';
import { architectureFor } from '../../src/lib/model/architecture';
import { parseModelConfig } from '../../src/lib/model/config';
import { isTargetModule, loraScaling, type LoraConfig } from '../../src/lib/adapters/config';
import { parseAdapterConfig } from '../../src/lib/peft/config';
import { trainableDef } from '../../src/lib/adapters/trainable';

const llama = architectureFor(parseModelConfig({ model_type: 'llama', hidden_size: 16, intermediate_size: 40, num_attention_heads: 4, num_key_value_heads: 2, num_hidden_layers: 2, vocab_size: 50 }));
const gpt2 = architectureFor(parseModelConfig({ model_type: 'gpt2', n_embd: 16, n_head: 4, n_layer: 2, vocab_size: 50, n_positions: 32 }));

describe('LoRA with PEFT semantics', () => {
  const cfg: LoraConfig = {
    peft_type: 'LORA',
    r: 4,
    lora_alpha: 8,
    lora_dropout: 0,
    target_modules: ['q_proj', 'v_proj', 'down_proj'],
    use_rslora: false,
    layers_to_transform: null,
  };

  it('names A (r,in) and B (out,r) as PEFT saves them', () => {
    const def = trainableDef(llama, cfg);
    const shapes = Object.fromEntries(def.specs.map((s) => [s.name, s.shape]));
    expect(shapes['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight']).toEqual([4, 16]);
    expect(shapes['base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight']).toEqual([8, 4]); // NKV·HS = 2·4
    expect(shapes['base_model.model.model.layers.1.mlp.down_proj.lora_A.weight']).toEqual([4, 40]);
    expect(def.specs).toHaveLength(2 * 3 * 2);
  });

  it('initialises A ~ U(-1/√in, 1/√in) (kaiming_uniform a=√5) and B = 0, reproducibly', () => {
    const def = trainableDef(llama, cfg);
    const init = def.init(7);
    const A = init.get('base_model.model.model.layers.1.mlp.down_proj.lora_A.weight')!;
    const bound = 1 / Math.sqrt(40);
    expect(Math.max(...A.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...A.map(Math.abs))).toBeGreaterThan(0.8 * bound);
    expect(init.get('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight')!.every((x) => x === 0)).toBe(true);
    expect(def.init(7).get('base_model.model.model.layers.1.mlp.down_proj.lora_A.weight')).toEqual(A);
    expect(def.init(8).get('base_model.model.model.layers.1.mlp.down_proj.lora_A.weight')).not.toEqual(A);
  });

  it('scales by alpha/r, or alpha/√r with rsLoRA', () => {
    expect(loraScaling(cfg)).toBe(2);
    expect(loraScaling({ ...cfg, use_rslora: true })).toBe(4);
  });

  it('layers_to_transform keeps the branches of the listed layers only', () => {
    const def = trainableDef(llama, { ...cfg, layers_to_transform: [1] });
    expect(def.specs).toHaveLength(3 * 2);
    expect(def.specs.every((s) => s.name.includes('.layers.1.'))).toBe(true);
  });

  it('targets GPT-2 Conv1D modules; c_attn\'s B keeps q|k|v as three blocks', () => {
    const def = trainableDef(gpt2, { ...cfg, target_modules: ['c_attn', 'c_proj'] });
    const B = def.specs.find((s) => s.name === 'base_model.model.transformer.h.0.attn.c_attn.lora_B.weight')!;
    expect(B.shape).toEqual([48, 4]);
    expect(B.chunkRows).toBe(16);
    // c_proj matches both attn.c_proj and mlp.c_proj, as PEFT's suffix match does.
    expect(def.specs.map((s) => s.name)).toContain('base_model.model.transformer.h.1.mlp.c_proj.lora_A.weight');
    expect(def.specs.map((s) => s.name)).toContain('base_model.model.transformer.h.1.attn.c_proj.lora_A.weight');
  });

  it('matches target modules as PEFT does', () => {
    expect(isTargetModule(['q_proj'], 'model.layers.0.self_attn.q_proj')).toBe(true);
    expect(isTargetModule(['proj'], 'model.layers.0.self_attn.q_proj')).toBe(false);
    expect(isTargetModule('.*\\.(q|v)_proj', 'model.layers.0.self_attn.v_proj')).toBe(true);
    expect(isTargetModule('.*\\.(q|v)_proj', 'model.layers.0.self_attn.k_proj')).toBe(false);
    expect(() => trainableDef(llama, { ...cfg, target_modules: ['nothing'] })).toThrow(/match no projection/);
    expect(() => trainableDef(llama, { ...cfg, layers_to_transform: [7] })).toThrow(/in layers \[7\]/);
  });
});

describe('bottleneck adapters', () => {
  it('place down (size,C)+bias and zero-initialised up (C,size)+bias after attention and/or MLP', () => {
    const def = trainableDef(llama, { peft_type: 'BOTTLENECK', bottleneck_size: 6, non_linearity: 'relu', placement: ['self_attn'] });
    expect(def.specs.map((s) => s.name)).toEqual(
      [0, 1].flatMap((l) => ['down.weight', 'down.bias', 'up.weight', 'up.bias'].map((k) => `base_model.model.model.layers.${l}.self_attn.adapter.${k}`)),
    );
    const init = def.init(1);
    expect(init.get('base_model.model.model.layers.0.self_attn.adapter.up.weight')!.every((x) => x === 0)).toBe(true);
    expect(init.get('base_model.model.model.layers.0.self_attn.adapter.up.bias')!.every((x) => x === 0)).toBe(true);
    const down = init.get('base_model.model.model.layers.0.self_attn.adapter.down.weight')!;
    expect(down.some((x) => x !== 0)).toBe(true);
    expect(Math.max(...down.map(Math.abs))).toBeLessThanOrEqual(1 / 4);
  });

  it('reads the fixture-style config', () => {
    expect(parseAdapterConfig({ peft_type: 'BOTTLENECK', bottleneck_size: 16, non_linearity: 'relu', placement: ['self_attn', 'mlp'] }).method).toEqual({
      peft_type: 'BOTTLENECK',
      bottleneck_size: 16,
      non_linearity: 'relu',
      placement: ['self_attn', 'mlp'],
    });
  });
});

describe('prefix tuning', () => {
  it('keeps PEFT\'s prompt_embeddings (P, L·2·NKV·HS), initialised N(0,1)', () => {
    const def = trainableDef(llama, { peft_type: 'PREFIX_TUNING', num_virtual_tokens: 5 });
    expect(def.specs).toEqual([{ name: 'prompt_embeddings', shape: [5, 2 * 2 * 2 * 4] }]);
    const x = def.init(3).get('prompt_embeddings')!;
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const std = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length);
    expect(Math.abs(mean)).toBeLessThan(0.3);
    expect(std).toBeGreaterThan(0.7);
    expect(std).toBeLessThan(1.3);
  });

  it('reads a PEFT PREFIX_TUNING config', () => {
    const file = parseAdapterConfig({ peft_type: 'PREFIX_TUNING', num_virtual_tokens: 8, num_layers: 2, token_dim: 8, num_attention_heads: 2 });
    expect(file.method).toEqual({ peft_type: 'PREFIX_TUNING', num_virtual_tokens: 8 });
    expect(file.prefixShape).toEqual({ num_layers: 2, token_dim: 8, num_attention_heads: 2 });
  });
});

describe('full fine-tuning', () => {
  it('exports Hugging Face names and layouts (GPT-2 Conv1D back to (in,out))', () => {
    const def = trainableDef(gpt2, { peft_type: 'FULL' });
    const w = new Float32Array(16 * 64).map((_, i) => i);
    const t = def.toExport('transformer.h.0.mlp.c_fc.weight', w);
    expect(t.key).toBe('transformer.h.0.mlp.c_fc.weight');
    expect(t.shape).toEqual([16, 64]);
    expect(t.data[1]).toBe(w[16]); // (out=64,in=16) → (in,out): element (0,1) was (1,0)
    const back = def.fromExport(t.key, t.shape, t.data)!;
    expect(back.name).toBe('transformer.h.0.mlp.c_fc.weight');
    expect(Array.from(back.data)).toEqual(Array.from(w));
  });
});

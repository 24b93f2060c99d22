import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/lib/model/config';

// Abridged from the published config.json files of these models.
const smollm2 = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 576, intermediate_size: 1536,
  num_attention_heads: 9, num_key_value_heads: 3, num_hidden_layers: 30, vocab_size: 49152,
  max_position_embeddings: 8192, rms_norm_eps: 1e-5, rope_theta: 100000, tie_word_embeddings: true,
  hidden_act: 'silu', attention_bias: false, mlp_bias: false, bos_token_id: 1, eos_token_id: 2,
};
const qwen2 = {
  model_type: 'qwen2', hidden_size: 896, intermediate_size: 4864, num_attention_heads: 14,
  num_key_value_heads: 2, num_hidden_layers: 24, vocab_size: 151936, rms_norm_eps: 1e-6,
  rope_theta: 1000000, tie_word_embeddings: false, hidden_act: 'silu', eos_token_id: 151643,
};
const qwen3 = {
  architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', hidden_size: 1024, intermediate_size: 3072,
  num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, num_hidden_layers: 28, vocab_size: 151936,
  max_position_embeddings: 40960, rms_norm_eps: 1e-6, rope_theta: 1000000, rope_scaling: null,
  tie_word_embeddings: true, attention_bias: false, hidden_act: 'silu', use_sliding_window: false,
  sliding_window: null, bos_token_id: 151643, eos_token_id: 151645,
};
const gpt2 = {
  model_type: 'gpt2', n_embd: 768, n_head: 12, n_layer: 12, n_positions: 1024, vocab_size: 50257,
  activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, bos_token_id: 50256, eos_token_id: 50256,
};

describe('parseModelConfig', () => {
  it('reads a Llama-family config (SmolLM2: GQA, tied embeddings, rope_theta)', () => {
    const c = parseModelConfig(smollm2);
    expect(c).toMatchObject({
      family: 'llama', vocabSize: 49152, hidden: 576, layers: 30, heads: 9, kvHeads: 3, headDim: 64,
      intermediate: 1536, norm: 'rmsnorm', normEps: 1e-5, mlp: 'swiglu', positions: 'rope',
      ropeTheta: 100000, qkvBias: false, oBias: false, mlpBias: false, tieEmbeddings: true,
      bosTokenId: 1, eosTokenIds: [2],
    });
  });

  it('gives Qwen2 q/k/v bias without an o_proj bias, and keeps lm_head untied', () => {
    const c = parseModelConfig(JSON.stringify(qwen2));
    expect(c).toMatchObject({ family: 'llama', qkvBias: true, oBias: false, tieEmbeddings: false, headDim: 64, kvHeads: 2 });
  });

  it('reads Qwen3-0.6B: per-head q/k norm, head_dim 128 though hidden/heads is 64, no bias, tied, theta 1e6', () => {
    const c = parseModelConfig(qwen3);
    expect(c).toMatchObject({
      family: 'llama', modelType: 'qwen3', hidden: 1024, heads: 16, kvHeads: 8, headDim: 128, qkNorm: true,
      qkvBias: false, oBias: false, tieEmbeddings: true, ropeTheta: 1e6, normEps: 1e-6, vocabSize: 151936,
    });
    expect(parseModelConfig(qwen2).qkNorm).toBe(false);
    expect(parseModelConfig(smollm2).qkNorm).toBe(false);
  });

  it('reads GPT-2 (LayerNorm, learned positions, tanh GELU, 4C MLP, tied lm_head)', () => {
    const c = parseModelConfig(gpt2);
    expect(c).toMatchObject({
      family: 'gpt2', hidden: 768, heads: 12, kvHeads: 12, headDim: 64, intermediate: 3072, norm: 'layernorm',
      mlp: 'gelu_tanh', positions: 'learned', maxPositions: 1024, qkvBias: true, oBias: true, mlpBias: true,
      tieEmbeddings: true,
    });
  });

  it('lets generation_config.json override the eos tokens', () => {
    const c = parseModelConfig(smollm2, { eos_token_id: [2, 7] });
    expect(c.eosTokenIds).toEqual([2, 7]);
  });

  it('refuses what it cannot run, by name', () => {
    expect(() => parseModelConfig({ model_type: 'mamba' })).toThrow(/mamba/);
    expect(() => parseModelConfig({ model_type: 'qwen3_moe' })).toThrow(/model_type "qwen3_moe" is not supported \(llama, qwen2, qwen3, gpt2\)/);
    expect(() => parseModelConfig({ ...qwen3, use_sliding_window: true })).toThrow(/use_sliding_window/);
    expect(() => parseModelConfig({ ...smollm2, hidden_act: 'gelu' })).toThrow(/hidden_act/);
    expect(() => parseModelConfig({ ...smollm2, rope_scaling: { rope_type: 'llama3', factor: 8 } })).toThrow(/rope_scaling/);
  });
});

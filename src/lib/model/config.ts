// One typed description of a decoder-only transformer, read from a Hugging Face config.json.
// Two families share the engine: the Llama family (Llama, SmolLM2, Qwen2, Qwen3: RMSNorm, RoPE,
// SwiGLU, GQA, optional q/k/v bias, Qwen3's per-head q/k RMSNorm) and GPT-2 (LayerNorm, learned positions, GELU, fused Conv1D c_attn).

import { showValue } from '../show.ts';

export type Family = 'llama' | 'gpt2';

export interface ModelConfig {
  family: Family;
  /** config.json's model_type, as given ('llama', 'qwen2', 'gpt2', ...) */
  modelType: string;
  /** V: vocabulary size (rows of the embedding, columns of the logits) */
  vocabSize: number;
  /** C: hidden size */
  hidden: number;
  /** L: number of transformer blocks */
  layers: number;
  /** NH: query heads */
  heads: number;
  /** NKV: key/value heads (== NH without GQA) */
  kvHeads: number;
  /** HS: head size */
  headDim: number;
  /** FFN width (Llama: gate/up output; GPT-2: c_fc output, n_inner or 4·C) */
  intermediate: number;
  /** longest sequence the model was built for (GPT-2: rows of wpe) */
  maxPositions: number;
  norm: 'rmsnorm' | 'layernorm';
  normEps: number;
  /** 'swiglu': down(silu(gate(x)) * up(x)); 'gelu_tanh'/'gelu'/'relu'/'silu': c_proj(act(c_fc(x))) */
  mlp: 'swiglu' | 'gelu_tanh' | 'gelu' | 'relu' | 'silu';
  /** positions: rotary (Llama family) or learned (GPT-2's wpe) */
  positions: 'rope' | 'learned';
  ropeTheta: number;
  /** q/k/v projections carry a bias (Qwen2, GPT-2, Llama with attention_bias) */
  qkvBias: boolean;
  /**
   * q and k are RMS-normalised per head (over HS, weights (HS) per layer) after their projections and
   * before RoPE (Qwen3's q_norm / k_norm)
   */
  qkNorm: boolean;
  /** the attention output projection carries a bias (GPT-2, Llama with attention_bias) */
  oBias: boolean;
  /** MLP projections carry biases (GPT-2, Llama with mlp_bias) */
  mlpBias: boolean;
  /** lm_head shares the token embedding's weights */
  tieEmbeddings: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
  /**
   * config.json's torch_dtype or dtype ('bfloat16', 'float16', 'float32', ...), when given: how the checkpoint
   * most likely stores its weights, so the memory estimate can count f16 storage before a download
   */
  torchDtype?: string;
}

type Json = Record<string, unknown>;

/** config.json's dtype: `torch_dtype`, or `dtype` as newer transformers write it. */
const torchDtype = (cfg: Json): { torchDtype?: string } => {
  const d = cfg.dtype ?? cfg.torch_dtype;
  return typeof d === 'string' ? { torchDtype: d } : {};
};

/** A config.json this app cannot run, or that is not a config.json at all; the message says why. */
export class ModelConfigError extends Error {
  constructor(message: string) {
    super(`config.json: ${message}`);
    this.name = 'ModelConfigError';
  }
}

/**
 * Largest sizes accepted. A config.json comes from wherever the model comes from (a Hub repo anyone can
 * publish), and these numbers size the buffers the engine allocates before a weight is read, so a
 * config that asks for absurd sizes is refused up front. Each is far beyond the largest model a browser
 * GPU could hold.
 */
export const MODEL_CONFIG_LIMITS = {
  vocabSize: 4_000_000,
  hidden: 65_536,
  layers: 1_024,
  heads: 1_024,
  intermediate: 1_048_576,
  maxPositions: 16_777_216,
} as const;

function num(cfg: Json, key: string, fallback?: number): number {
  const v = cfg[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new ModelConfigError(`missing number "${key}"`);
  }
  throw new ModelConfigError(`"${key}" must be a number, got ${showValue(v)}`);
}

/** A size: a whole number from 1 to `max`. */
function size(cfg: Json, key: string, max: number, fallback?: number): number {
  const v = num(cfg, key, fallback);
  if (!Number.isInteger(v) || v < 1 || v > max) throw new ModelConfigError(`"${key}" must be a whole number from 1 to ${max.toLocaleString('en-US')}, got ${v}`);
  return v;
}

/** A positive number such as a norm epsilon or RoPE's theta. */
function positive(cfg: Json, key: string, fallback: number): number {
  const v = num(cfg, key, fallback);
  if (!(v > 0)) throw new ModelConfigError(`"${key}" must be above 0, got ${v}`);
  return v;
}

function ids(v: unknown): number[] {
  if (typeof v === 'number') return Number.isInteger(v) ? [v] : [];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number' && Number.isInteger(x));
  return [];
}

/** JSON text or an object; anything else (an array, a number, text that is not JSON) is refused. */
function asObject(input: Json | string, what: string): Json {
  let v: unknown = input;
  if (typeof input === 'string') {
    try {
      v = JSON.parse(input);
    } catch (e) {
      throw new ModelConfigError(`${what} is not valid JSON (${(e as Error).message})`);
    }
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ModelConfigError(`${what} must be a JSON object`);
  return v as Json;
}

/** Heads must split the width evenly, and key/value heads must split the query heads (GQA). */
function checkHeads(c: ModelConfig): ModelConfig {
  if (c.family === 'gpt2' && c.hidden % c.heads !== 0) {
    throw new ModelConfigError(`n_embd ${c.hidden} is not a multiple of n_head ${c.heads}`);
  }
  if (!Number.isInteger(c.headDim) || c.headDim < 1 || c.headDim > MODEL_CONFIG_LIMITS.hidden) {
    throw new ModelConfigError(`the head size (hidden size / heads, or head_dim) must be a whole number, got ${c.headDim}`);
  }
  if (c.heads % c.kvHeads !== 0) throw new ModelConfigError(`num_attention_heads ${c.heads} is not a multiple of num_key_value_heads ${c.kvHeads}`);
  return c;
}

const LLAMA_TYPES = new Set(['llama', 'qwen2', 'qwen3', 'mistral', 'smollm', 'smollm2']);

/**
 * Parses a Hugging Face config.json (object or text). `generation` (generation_config.json), when
 * given, overrides the eos/bos token ids, as transformers does at generation time.
 */
export function parseModelConfig(config: Json | string, generation?: Json | string): ModelConfig {
  const cfg = asObject(config, 'the file');
  const gen = generation === undefined ? undefined : asObject(generation, 'generation_config.json');
  const modelType = typeof cfg.model_type === 'string' ? cfg.model_type : '';
  const eos = ids(gen?.eos_token_id ?? cfg.eos_token_id);
  const bosRaw = gen?.bos_token_id ?? cfg.bos_token_id;
  const bos = typeof bosRaw === 'number' && Number.isInteger(bosRaw) ? bosRaw : null;

  if (modelType === 'gpt2') {
    const C = size(cfg, 'n_embd', MODEL_CONFIG_LIMITS.hidden);
    const NH = size(cfg, 'n_head', MODEL_CONFIG_LIMITS.heads);
    const act = typeof cfg.activation_function === 'string' ? cfg.activation_function : cfg.activation_function == null ? 'gelu_new' : showValue(cfg.activation_function);
    const mlp = act === 'gelu_new' || act === 'gelu_pytorch_tanh' ? 'gelu_tanh'
      : act === 'gelu' ? 'gelu' : act === 'relu' ? 'relu' : act === 'silu' || act === 'swish' ? 'silu' : null;
    if (!mlp) throw new ModelConfigError(`unsupported GPT-2 activation_function ${showValue(act)}`);
    return checkHeads({
      family: 'gpt2',
      modelType,
      vocabSize: size(cfg, 'vocab_size', MODEL_CONFIG_LIMITS.vocabSize),
      hidden: C,
      layers: size(cfg, 'n_layer', MODEL_CONFIG_LIMITS.layers),
      heads: NH,
      kvHeads: NH,
      headDim: C / NH,
      intermediate: size(cfg, 'n_inner', MODEL_CONFIG_LIMITS.intermediate, 4 * C),
      maxPositions: size(cfg, 'n_positions', MODEL_CONFIG_LIMITS.maxPositions, 1024),
      norm: 'layernorm',
      normEps: positive(cfg, 'layer_norm_epsilon', 1e-5),
      mlp,
      positions: 'learned',
      ropeTheta: 0,
      qkvBias: true,
      qkNorm: false,
      oBias: true,
      mlpBias: true,
      tieEmbeddings: cfg.tie_word_embeddings !== false,
      bosTokenId: bos,
      eosTokenIds: eos,
      ...torchDtype(cfg),
    });
  }

  if (LLAMA_TYPES.has(modelType)) {
    const C = size(cfg, 'hidden_size', MODEL_CONFIG_LIMITS.hidden);
    const NH = size(cfg, 'num_attention_heads', MODEL_CONFIG_LIMITS.heads);
    const act = cfg.hidden_act ?? 'silu';
    if (act !== 'silu') throw new ModelConfigError(`unsupported ${modelType} hidden_act ${showValue(act)} (SwiGLU needs silu)`);
    const scaling = cfg.rope_scaling;
    if (scaling != null && (typeof scaling !== 'object' || ((scaling as Json).rope_type !== 'default' && (scaling as Json).type !== 'default'))) {
      throw new ModelConfigError(`rope_scaling ${showValue(scaling)} is not supported`);
    }
    // Qwen2/Qwen3 configs carry sliding-window fields that every released checkpoint switches off;
    // the engine's attention is full causal, so a model that asks for the window is refused.
    if (cfg.use_sliding_window === true) throw new ModelConfigError(`use_sliding_window true is not supported (attention is full causal)`);
    const attentionBias = cfg.attention_bias === true;
    return checkHeads({
      family: 'llama',
      modelType,
      vocabSize: size(cfg, 'vocab_size', MODEL_CONFIG_LIMITS.vocabSize),
      hidden: C,
      layers: size(cfg, 'num_hidden_layers', MODEL_CONFIG_LIMITS.layers),
      heads: NH,
      kvHeads: size(cfg, 'num_key_value_heads', MODEL_CONFIG_LIMITS.heads, NH),
      headDim: num(cfg, 'head_dim', C / NH),
      intermediate: size(cfg, 'intermediate_size', MODEL_CONFIG_LIMITS.intermediate),
      maxPositions: size(cfg, 'max_position_embeddings', MODEL_CONFIG_LIMITS.maxPositions, 2048),
      norm: 'rmsnorm',
      normEps: positive(cfg, 'rms_norm_eps', 1e-6),
      mlp: 'swiglu',
      positions: 'rope',
      ropeTheta: positive(cfg, 'rope_theta', 10000),
      // Qwen2 always has q/k/v bias and no o_proj bias; Llama and Qwen3 (attention_bias, false in
      // every released Qwen3) have both or neither.
      qkvBias: modelType === 'qwen2' ? true : attentionBias,
      qkNorm: modelType === 'qwen3',
      oBias: modelType === 'qwen2' ? false : attentionBias,
      mlpBias: cfg.mlp_bias === true,
      tieEmbeddings: cfg.tie_word_embeddings === true,
      bosTokenId: bos,
      eosTokenIds: eos,
      ...torchDtype(cfg),
    });
  }

  throw new ModelConfigError(`model_type ${showValue(cfg.model_type ?? '')} is not supported (llama, qwen2, qwen3, gpt2)`);
}

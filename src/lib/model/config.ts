// One typed description of a decoder-only transformer, read from a Hugging Face config.json.
// Two families share the engine: the Llama family (Llama, SmolLM2, Qwen2: RMSNorm, RoPE, SwiGLU,
// GQA, optional q/k/v bias) and GPT-2 (LayerNorm, learned positions, GELU, fused Conv1D c_attn).

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
  /** the attention output projection carries a bias (GPT-2, Llama with attention_bias) */
  oBias: boolean;
  /** MLP projections carry biases (GPT-2, Llama with mlp_bias) */
  mlpBias: boolean;
  /** lm_head shares the token embedding's weights */
  tieEmbeddings: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

type Json = Record<string, unknown>;

function num(cfg: Json, key: string, fallback?: number): number {
  const v = cfg[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (fallback !== undefined) return fallback;
  throw new Error(`config.json: missing number "${key}"`);
}

function ids(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return [];
}

const LLAMA_TYPES = new Set(['llama', 'qwen2', 'mistral', 'smollm', 'smollm2']);

/**
 * Parses a Hugging Face config.json (object or text). `generation` (generation_config.json), when
 * given, overrides the eos/bos token ids, as transformers does at generation time.
 */
export function parseModelConfig(config: Json | string, generation?: Json | string): ModelConfig {
  const cfg: Json = typeof config === 'string' ? JSON.parse(config) : config;
  const gen: Json | undefined = typeof generation === 'string' ? JSON.parse(generation) : generation;
  const modelType = String(cfg.model_type ?? '');
  const eos = ids(gen?.eos_token_id ?? cfg.eos_token_id);
  const bosRaw = gen?.bos_token_id ?? cfg.bos_token_id;
  const bos = typeof bosRaw === 'number' ? bosRaw : null;

  if (modelType === 'gpt2') {
    const C = num(cfg, 'n_embd');
    const NH = num(cfg, 'n_head');
    const act = String(cfg.activation_function ?? 'gelu_new');
    const mlp = act === 'gelu_new' || act === 'gelu_pytorch_tanh' ? 'gelu_tanh'
      : act === 'gelu' ? 'gelu' : act === 'relu' ? 'relu' : act === 'silu' || act === 'swish' ? 'silu' : null;
    if (!mlp) throw new Error(`config.json: unsupported GPT-2 activation_function "${act}"`);
    return {
      family: 'gpt2',
      modelType,
      vocabSize: num(cfg, 'vocab_size'),
      hidden: C,
      layers: num(cfg, 'n_layer'),
      heads: NH,
      kvHeads: NH,
      headDim: C / NH,
      intermediate: typeof cfg.n_inner === 'number' ? cfg.n_inner : 4 * C,
      maxPositions: num(cfg, 'n_positions', 1024),
      norm: 'layernorm',
      normEps: num(cfg, 'layer_norm_epsilon', 1e-5),
      mlp,
      positions: 'learned',
      ropeTheta: 0,
      qkvBias: true,
      oBias: true,
      mlpBias: true,
      tieEmbeddings: cfg.tie_word_embeddings !== false,
      bosTokenId: bos,
      eosTokenIds: eos,
    };
  }

  if (LLAMA_TYPES.has(modelType)) {
    const C = num(cfg, 'hidden_size');
    const NH = num(cfg, 'num_attention_heads');
    const act = String(cfg.hidden_act ?? 'silu');
    if (act !== 'silu') throw new Error(`config.json: unsupported ${modelType} hidden_act "${act}" (SwiGLU needs silu)`);
    const scaling = cfg.rope_scaling as Json | null | undefined;
    if (scaling && scaling.rope_type !== 'default' && scaling.type !== 'default') {
      throw new Error(`config.json: rope_scaling ${JSON.stringify(scaling)} is not supported`);
    }
    const attentionBias = cfg.attention_bias === true;
    return {
      family: 'llama',
      modelType,
      vocabSize: num(cfg, 'vocab_size'),
      hidden: C,
      layers: num(cfg, 'num_hidden_layers'),
      heads: NH,
      kvHeads: num(cfg, 'num_key_value_heads', NH),
      headDim: num(cfg, 'head_dim', C / NH),
      intermediate: num(cfg, 'intermediate_size'),
      maxPositions: num(cfg, 'max_position_embeddings', 2048),
      norm: 'rmsnorm',
      normEps: num(cfg, 'rms_norm_eps', 1e-6),
      mlp: 'swiglu',
      positions: 'rope',
      ropeTheta: num(cfg, 'rope_theta', 10000),
      // Qwen2 always has q/k/v bias and no o_proj bias; Llama has both or neither.
      qkvBias: modelType === 'qwen2' ? true : attentionBias,
      oBias: modelType === 'qwen2' ? false : attentionBias,
      mlpBias: cfg.mlp_bias === true,
      tieEmbeddings: cfg.tie_word_embeddings === true,
      bosTokenId: bos,
      eosTokenIds: eos,
    };
  }

  throw new Error(`config.json: model_type "${modelType}" is not supported (llama, qwen2, gpt2)`);
}

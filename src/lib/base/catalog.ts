// The models the picker offers. The shipped model is served by the app itself (models/<id>/, copied into
// dist/ at build time) and loads with no network; hub models download from Hugging Face (or a mirror);
// models made in this browser (the New model panel) are read from IndexedDB (store/models.ts).

/**
 * Where a model's files come from: the app itself, a hub, or this browser's IndexedDB (a model made
 * here: a Hugging Face folder with no ONNX graph, so only the engine runs it).
 */
export type ModelSource = 'shipped' | 'hub' | 'browser';

/** Weight formats transformers.js can load (the suffix of onnx/model<suffix>.onnx). */
export type ModelDtype = 'fp32' | 'fp16' | 'q8' | 'q4' | 'q4f16';

/** Which ONNX file to load on each backend; `webgpuF16` is used when the adapter has shader-f16. */
export interface DtypeChoice {
  webgpu: ModelDtype;
  webgpuF16?: ModelDtype;
  wasm: ModelDtype;
}

export interface ModelSpec {
  /**
   * Folder name under models/ for shipped models, Hugging Face repo id for hub models, the store's id
   * for browser models: where the engine reads config.json and model.safetensors (and the page its
   * tokenizer).
   */
  id: string;
  /**
   * The repo holding the ONNX export the base runtime (transformers.js) loads, when not `id` itself:
   * the Qwen and GPT-2 repos carry safetensors only, their ONNX lives in onnx-community/Xenova copies.
   */
  onnx?: string;
  source: ModelSource;
  dtype: DtypeChoice;
  /** Wrap the prompt in the tokenizer's chat template by default (instruction-tuned models). */
  chat: boolean;
}

export interface CatalogEntry extends ModelSpec {
  label: string;
  description: string;
  /** Download size of the weights the default backend loads, for the picker. */
  size: string;
  /** Parameters as the engine holds them (tied embeddings counted once); checked against the config. */
  params: number;
  /** Bytes of the engine's model.safetensors (all shards) as published: what the tuned side downloads. */
  weightsBytes: number;
  /**
   * The published config.json, abridged to what the engine reads (model/config.ts) plus torch_dtype:
   * the shapes a run's GPU memory is estimated from before anything is downloaded (train/fit.ts).
   */
  config: Record<string, unknown>;
}

/** SmolLM2-135M's config (base and Instruct share it). */
const SMOLLM2_135M = {
  model_type: 'llama', vocab_size: 49152, hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30,
  num_attention_heads: 9, num_key_value_heads: 3, hidden_act: 'silu', max_position_embeddings: 8192, rms_norm_eps: 1e-5,
  rope_theta: 100000, tie_word_embeddings: true, bos_token_id: 1, eos_token_id: 2, torch_dtype: 'bfloat16',
};

/** The ONNX weights the Hub's small chat models publish: 4-bit on WebGPU (fp16 activations with shader-f16), 8-bit on WASM. */
const Q4_ONNX: DtypeChoice = { webgpu: 'q4', webgpuF16: 'q4f16', wasm: 'q8' };

/** What SmolLM2-135M's base and Instruct repos share: the architecture, the files and their sizes. */
const SMOLLM2_135M_FILES = {
  source: 'hub',
  size: '≈120 MB',
  dtype: Q4_ONNX,
  params: 134_515_008,
  weightsBytes: 269_060_552,
  config: SMOLLM2_135M,
} as const;

export const DEFAULT_MODEL_ID = 'brown-llama-4m';

export const CATALOG: readonly CatalogEntry[] = [
  {
    id: DEFAULT_MODEL_ID,
    source: 'shipped',
    label: 'Brown Llama 4M',
    description: 'A 4M-parameter Llama trained on the Brown corpus. Ships with the app, works offline.',
    size: '16 MB',
    dtype: { webgpu: 'fp32', wasm: 'fp32' },
    chat: false,
    params: 3_950_848,
    weightsBytes: 15_807_480,
    config: {
      model_type: 'llama', vocab_size: 4096, hidden_size: 256, intermediate_size: 688, num_hidden_layers: 4,
      num_attention_heads: 4, num_key_value_heads: 2, head_dim: 64, hidden_act: 'silu', max_position_embeddings: 512,
      rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true, torch_dtype: 'float32',
    },
  },
  {
    ...SMOLLM2_135M_FILES,
    id: 'HuggingFaceTB/SmolLM2-135M-Instruct',
    label: 'SmolLM2 135M Instruct',
    description: 'Hugging Face’s small instruction-tuned Llama. Downloads from the Hub once.',
    chat: true,
  },
  {
    id: 'HuggingFaceTB/SmolLM2-360M-Instruct',
    source: 'hub',
    label: 'SmolLM2 360M Instruct',
    description: 'The larger SmolLM2: better answers, slower. Downloads from the Hub once.',
    size: '≈260 MB',
    dtype: Q4_ONNX,
    chat: true,
    params: 361_821_120,
    weightsBytes: 723_674_912,
    config: {
      model_type: 'llama', vocab_size: 49152, hidden_size: 960, intermediate_size: 2560, num_hidden_layers: 32,
      num_attention_heads: 15, num_key_value_heads: 5, hidden_act: 'silu', max_position_embeddings: 8192, rms_norm_eps: 1e-5,
      rope_theta: 100000, tie_word_embeddings: true, bos_token_id: 1, eos_token_id: 2, torch_dtype: 'bfloat16',
    },
  },
  {
    ...SMOLLM2_135M_FILES,
    id: 'HuggingFaceTB/SmolLM2-135M',
    label: 'SmolLM2 135M (base)',
    description: 'SmolLM2 before instruction tuning: plain text continuation, the starting point for your own tuning.',
    chat: false,
  },
  {
    id: 'Qwen/Qwen2.5-0.5B-Instruct',
    onnx: 'onnx-community/Qwen2.5-0.5B-Instruct',
    source: 'hub',
    label: 'Qwen2.5 0.5B Instruct',
    description: 'Alibaba’s small multilingual chat model (q/k/v bias, 151,936-token vocabulary). Large download.',
    size: '≈790 MB',
    dtype: Q4_ONNX,
    chat: true,
    params: 494_032_768,
    weightsBytes: 988_097_824,
    config: {
      model_type: 'qwen2', vocab_size: 151936, hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24,
      num_attention_heads: 14, num_key_value_heads: 2, hidden_act: 'silu', max_position_embeddings: 32768, rms_norm_eps: 1e-6,
      rope_theta: 1000000, tie_word_embeddings: true, bos_token_id: 151643, eos_token_id: 151645, torch_dtype: 'bfloat16',
    },
  },
  {
    id: 'Qwen/Qwen3-0.6B',
    onnx: 'onnx-community/Qwen3-0.6B-ONNX',
    source: 'hub',
    label: 'Qwen3 0.6B',
    description: 'Qwen3’s smallest chat model (per-head q/k norm, thinks before answering). Largest download here.',
    size: '≈920 MB',
    dtype: Q4_ONNX,
    chat: true,
    params: 596_049_920,
    // the published file also stores the tied lm_head (155,582,464 more BF16 values); the engine reads the embedding
    weightsBytes: 1_503_300_328,
    config: {
      model_type: 'qwen3', vocab_size: 151936, hidden_size: 1024, intermediate_size: 3072, num_hidden_layers: 28,
      num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, hidden_act: 'silu', max_position_embeddings: 40960,
      rms_norm_eps: 1e-6, rope_theta: 1000000, attention_bias: false, tie_word_embeddings: true, bos_token_id: 151643,
      eos_token_id: 151645, torch_dtype: 'bfloat16',
    },
  },
  {
    id: 'openai-community/gpt2',
    onnx: 'Xenova/gpt2',
    source: 'hub',
    label: 'GPT-2 (124M)',
    description: 'OpenAI’s 2019 GPT-2: LayerNorm, learned positions, no chat template.',
    size: '≈160 MB',
    dtype: { webgpu: 'fp32', webgpuF16: 'fp16', wasm: 'q8' },
    chat: false,
    params: 124_439_808,
    // float32, with each layer's causal-mask buffer (attn.bias) stored too
    weightsBytes: 548_105_171,
    config: {
      model_type: 'gpt2', vocab_size: 50257, n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024,
      activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, bos_token_id: 50256, eos_token_id: 50256, torch_dtype: 'float32',
    },
  },
];

export function findModel(id: string): CatalogEntry | undefined {
  return CATALOG.find((m) => m.id === id);
}

/**
 * A spec for any Hugging Face repo with an onnx/ folder (typed in by the user or given in the URL),
 * loading onnx/model.onnx (fp32) unless a dtype is given.
 */
export function hubModel(id: string, dtype: ModelDtype = 'fp32', chat = false): ModelSpec {
  return { id, source: 'hub', dtype: { webgpu: dtype, wasm: dtype }, chat };
}

/** A Hugging Face repo id: owner/name, letters, digits, '-', '_', '.'. */
export function isHubModelId(id: string): boolean {
  return /^[\w.-]+\/[\w.-]+$/.test(id) && !id.includes('..');
}

/**
 * A model made in this browser, by its id in the models store. It has no ONNX graph: `dtype` is never
 * used (the base runtime loads its tokenizer and config only). No chat template: pretraining makes none.
 */
export function browserModel(id: string): ModelSpec {
  return { id, source: 'browser', dtype: { webgpu: 'fp32', wasm: 'fp32' }, chat: false };
}

/** Whether onnxruntime-web can run the model (models made in this browser have no ONNX graph). */
export function hasOnnx(model: Pick<ModelSpec, 'source'>): boolean {
  return model.source !== 'browser';
}

/** The spec of a loaded model from its id and source (a catalog entry, a made model, or a hub repo). */
export function specFor(loaded: { id: string; source: ModelSource }): ModelSpec {
  if (loaded.source === 'browser') return browserModel(loaded.id);
  return findModel(loaded.id) ?? hubModel(loaded.id);
}

// A new Llama-style model, made in the app: its config.json from a preset or custom sizes, and its
// first weights drawn as Hugging Face's LlamaPreTrainedModel._init_weights draws them — every Linear
// and the embedding from normal(0, initializer_range), RMSNorm weights 1 — from the one seeded RNG.
// The tokenizer is the shipped model's (its vocabulary size and special ids go into config.json).
// Pretraining is then full fine-tuning of these weights (DESIGN.md: "new model = full on a fresh init").

import type { ModelFiles } from '../model/model.ts';
import { parseModelConfig } from '../model/config.ts';
import { writeSafetensors, type TensorToWrite } from '../model/safetensors-write.ts';
import { createRng, normalDraw } from '../random.ts';

/** The sizes of a Llama-style model (config.json's names in the comments). */
export interface ArchitectureSpec {
  /** num_hidden_layers */
  layers: number;
  /** hidden_size */
  hidden: number;
  /** num_attention_heads */
  heads: number;
  /** num_key_value_heads (grouped-query attention when fewer than heads) */
  kvHeads: number;
  /** intermediate_size: the SwiGLU MLP's width */
  intermediate: number;
  /** max_position_embeddings: the longest row the model is built for */
  context: number;
}

/** The tokenizer a new model uses: its vocabulary size and special ids (the shipped one's). */
export interface TokenizerSpec {
  vocabSize: number;
  bosTokenId: number;
  eosTokenIds: number[];
  padTokenId: number;
}

/** The shipped model's tokenizer: 4,096 byte-level BPE tokens, <|endoftext|> = 0, <|im_end|> = 2. */
export const SHIPPED_TOKENIZER: TokenizerSpec = { vocabSize: 4096, bosTokenId: 0, eosTokenIds: [0, 2], padTokenId: 0 };

export type PresetName = '0.1m' | '0.5m' | '1m' | '4m';

/**
 * Presets by parameter count with the shipped 4,096-token vocabulary (the tied embedding alone is
 * 4,096·hidden). '4m' is brown-llama-4m's own architecture; '0.1m' is the size tests pretrain.
 */
export const PRESETS: Record<PresetName, ArchitectureSpec> = {
  '0.1m': { layers: 2, hidden: 24, heads: 2, kvHeads: 1, intermediate: 64, context: 128 },
  '0.5m': { layers: 2, hidden: 80, heads: 4, kvHeads: 2, intermediate: 224, context: 256 },
  '1m': { layers: 3, hidden: 128, heads: 4, kvHeads: 2, intermediate: 344, context: 256 },
  '4m': { layers: 4, hidden: 256, heads: 4, kvHeads: 2, intermediate: 688, context: 512 },
};
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** Hugging Face's LlamaConfig default for initializer_range, and the shipped model's. */
export const DEFAULT_INITIALIZER_RANGE = 0.02;

/** What is wrong with a custom architecture, one sentence per problem (empty when it can be built). */
export function architectureProblems(a: ArchitectureSpec): string[] {
  const out: string[] = [];
  const whole = (v: number, name: string, max: number) => {
    if (!Number.isInteger(v) || v < 1 || v > max) out.push(`${name} must be a whole number from 1 to ${max}, got ${v}`);
  };
  whole(a.layers, 'layers', 64);
  whole(a.hidden, 'width', 4096);
  whole(a.heads, 'heads', 64);
  whole(a.kvHeads, 'key/value heads', 64);
  whole(a.intermediate, 'MLP width', 16384);
  whole(a.context, 'context', 8192);
  if (out.length) return out;
  if (a.hidden % a.heads !== 0) out.push(`width ${a.hidden} is not a multiple of heads ${a.heads}`);
  else if ((a.hidden / a.heads) % 2 !== 0) out.push(`the head size ${a.hidden / a.heads} (width / heads) must be even for rotary positions`);
  if (a.heads % a.kvHeads !== 0) out.push(`heads ${a.heads} is not a multiple of key/value heads ${a.kvHeads}`);
  return out;
}

/** The HF tensors of the architecture: name and shape ([out, in] for projections), in file order. */
export function weightShapes(a: ArchitectureSpec, vocabSize: number): { name: string; shape: [number] | [number, number] }[] {
  const hd = a.hidden / a.heads;
  const out: { name: string; shape: [number] | [number, number] }[] = [{ name: 'model.embed_tokens.weight', shape: [vocabSize, a.hidden] }];
  for (let l = 0; l < a.layers; l++) {
    const p = `model.layers.${l}`;
    out.push(
      { name: `${p}.input_layernorm.weight`, shape: [a.hidden] },
      { name: `${p}.self_attn.q_proj.weight`, shape: [a.heads * hd, a.hidden] },
      { name: `${p}.self_attn.k_proj.weight`, shape: [a.kvHeads * hd, a.hidden] },
      { name: `${p}.self_attn.v_proj.weight`, shape: [a.kvHeads * hd, a.hidden] },
      { name: `${p}.self_attn.o_proj.weight`, shape: [a.hidden, a.heads * hd] },
      { name: `${p}.post_attention_layernorm.weight`, shape: [a.hidden] },
      { name: `${p}.mlp.gate_proj.weight`, shape: [a.intermediate, a.hidden] },
      { name: `${p}.mlp.up_proj.weight`, shape: [a.intermediate, a.hidden] },
      { name: `${p}.mlp.down_proj.weight`, shape: [a.hidden, a.intermediate] },
    );
  }
  out.push({ name: 'model.norm.weight', shape: [a.hidden] });
  return out;
}

/** Parameter count (the embedding is tied to lm_head, so it counts once). */
export function parameterCount(a: ArchitectureSpec, vocabSize = SHIPPED_TOKENIZER.vocabSize): number {
  return weightShapes(a, vocabSize).reduce((n, w) => n + w.shape.reduce((x, y) => x * y, 1), 0);
}

/** config.json of a new LlamaForCausalLM with tied embeddings, as transformers writes one. */
export function llamaConfigJson(a: ArchitectureSpec, tok: TokenizerSpec, initializerRange: number): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: tok.vocabSize,
    hidden_size: a.hidden,
    intermediate_size: a.intermediate,
    num_hidden_layers: a.layers,
    num_attention_heads: a.heads,
    num_key_value_heads: a.kvHeads,
    head_dim: a.hidden / a.heads,
    hidden_act: 'silu',
    max_position_embeddings: a.context,
    rms_norm_eps: 1e-5,
    rope_theta: 10000.0,
    rope_scaling: null,
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: true,
    bos_token_id: tok.bosTokenId,
    eos_token_id: tok.eosTokenIds[0],
    pad_token_id: tok.padTokenId,
    initializer_range: initializerRange,
    torch_dtype: 'float32',
    use_cache: true,
  };
}

/** generation_config.json: which ids end a generation (the shipped model's). */
export function generationConfigJson(tok: TokenizerSpec): Record<string, unknown> {
  return { bos_token_id: tok.bosTokenId, eos_token_id: tok.eosTokenIds, pad_token_id: tok.padTokenId, max_new_tokens: 64 };
}

/** The first weights: normal(0, initializerRange) for the embedding and every projection, 1 for every RMSNorm. */
export function initialWeights(a: ArchitectureSpec, vocabSize: number, seed: number, initializerRange: number): Map<string, TensorToWrite> {
  const rng = createRng(seed);
  const out = new Map<string, TensorToWrite>();
  for (const w of weightShapes(a, vocabSize)) {
    const n = w.shape.reduce((x, y) => x * y, 1);
    const data = new Float32Array(n);
    if (w.shape.length === 1) data.fill(1);
    else for (let i = 0; i < n; i++) data[i] = initializerRange * normalDraw(rng);
    out.set(w.name, { dtype: 'F32', shape: w.shape, data });
  }
  return out;
}

export interface NewModelOptions {
  architecture: ArchitectureSpec;
  seed: number;
  initializerRange?: number;
  tokenizer?: TokenizerSpec;
}

/** The new model as the engine loads a folder (config.json, generation_config.json, model.safetensors). */
export function newModelFiles(o: NewModelOptions): ModelFiles & { config: Record<string, unknown>; generationConfig: Record<string, unknown> } {
  const problems = architectureProblems(o.architecture);
  if (problems.length) throw new Error(`this architecture cannot be built: ${problems.join('; ')}`);
  const range = o.initializerRange ?? DEFAULT_INITIALIZER_RANGE;
  if (!(range > 0 && range <= 1)) throw new Error(`initializer_range must be above 0 and at most 1, got ${range}`);
  const tok = o.tokenizer ?? SHIPPED_TOKENIZER;
  const config = llamaConfigJson(o.architecture, tok, range);
  parseModelConfig(config); // the engine's own reader accepts it (throws a named problem otherwise)
  const weights = writeSafetensors(initialWeights(o.architecture, tok.vocabSize, o.seed, range), { format: 'pt' });
  return { config, generationConfig: generationConfigJson(tok), weights: [weights] };
}

// What the shared decoder (transformer.ts) needs to know about a model family: the parameters it
// stores (internal names and layouts), and for every block which tensors play which role.
// llama.ts and gpt2.ts each build one of these from a ModelConfig.
import type { ModelConfig } from './config.ts';
import type { ParamSpec } from './params.ts';
import { llamaArchitecture } from './llama.ts';
import { gpt2Architecture } from './gpt2.ts';

/** One projection y = x·Wᵀ + b, W stored (out,in) in the parameter table. */
export interface LinearDef {
  /**
   * The Hugging Face module it belongs to, e.g. 'model.layers.0.self_attn.q_proj' — the name PEFT
   * matches target_modules against and prefixes its adapter keys with.
   */
  module: string;
  /** Parameter names of the weight (out,in) and bias (out) of the whole module. */
  weight: string;
  bias: string | null;
  /**
   * Which row block of the module's output this projection computes. GPT-2's c_attn is one module
   * (3C outputs) computed as three projections q|k|v, blocks 0, 1, 2 of C rows each.
   */
  block: number;
  blocks: number;
  in: number;
  out: number;
}

export interface NormDef {
  weight: string;
  bias: string | null;
}

export interface LayerDef {
  norm1: NormDef;
  q: LinearDef;
  k: LinearDef;
  v: LinearDef;
  /** Qwen3: RMSNorm over each head of q and of k (weights (HS)) between projection and RoPE */
  qNorm: NormDef | null;
  kNorm: NormDef | null;
  o: LinearDef;
  norm2: NormDef;
  /** Llama: gate then up (out = down(silu(gate)·up)). GPT-2: c_fc (out = c_proj(act(c_fc))). */
  mlpIn: LinearDef[];
  mlpOut: LinearDef;
  /** module paths whose output bottleneck adapters follow: '…self_attn' / '…attn' and '…mlp' */
  attnModule: string;
  mlpModule: string;
}

export interface Architecture {
  cfg: ModelConfig;
  /** every base parameter, internal name and layout, in storage order */
  params: ParamSpec[];
  /** token embedding (V,C) */
  wte: string;
  /** learned positions (maxPositions,C), GPT-2 only */
  wpe: string | null;
  layers: LayerDef[];
  finalNorm: NormDef;
  /** the output projection (V,C): wte when tied */
  lmHead: string;
  /**
   * Where an internal parameter comes from in the HF checkpoint: the tensor names to try, in order,
   * and whether it is stored transposed there (GPT-2's Conv1D keeps weights as (in,out)).
   */
  source(name: string): { names: string[]; transposed: boolean };
}

export function architectureFor(cfg: ModelConfig): Architecture {
  return cfg.family === 'gpt2' ? gpt2Architecture(cfg) : llamaArchitecture(cfg);
}

/** Helper for the family files: a whole-module projection. */
export function linear(module: string, inF: number, outF: number, bias: boolean): LinearDef {
  return { module, weight: `${module}.weight`, bias: bias ? `${module}.bias` : null, block: 0, blocks: 1, in: inF, out: outF };
}

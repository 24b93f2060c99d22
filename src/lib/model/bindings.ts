// Binding a model to its tensors: for every projection, norm and adapter of the architecture, the
// GPU tensors it reads (base weights or, for full fine-tuning, the trainable copy) and the gradient
// tensors it writes (only trainable ones). Resolved once when a method is attached, so the forward
// and backward passes are plain lists of dispatches over ready tensors.
import type { Tensor } from '../gpu/index.ts';
import type { MethodConfig } from '../adapters/config.ts';
import { loraScaling } from '../adapters/config.ts';
import { bottleneckKeys } from '../adapters/bottleneck.ts';
import { loraKeys } from '../adapters/lora.ts';
import { SCORE_KEY } from '../adapters/score.ts';
import { PREFIX_KEY, prefixLayerOffset } from '../adapters/prefix.ts';
import type { ActivationKind } from '../ops/activation/activation.ts';
import type { Architecture, LinearDef, NormDef } from './architecture.ts';
import type { ParamStore } from './store.ts';

export interface LoraBinding {
  /** distinct per projection: mixes into the dropout seed so every branch draws its own mask */
  id: number;
  r: number;
  scale: number;
  /** dropout probability on the branch's input (training only) */
  dropout: number;
  A: Tensor; // (r,in)
  B: Tensor; // (out,r): this projection's row block of lora_B
  dA: Tensor | null;
  dB: Tensor | null;
}

export interface LinearBinding {
  def: LinearDef;
  /** (out,in); when the weight is split over several bindings, its first chunk (see `split`) */
  weight: Tensor;
  bias: Tensor | null; // (out)
  dweight: Tensor | null;
  dbias: Tensor | null;
  lora: LoraBinding | null;
  /**
   * A weight larger than one storage binding, as row chunks (blocks of output features) with their
   * gradient chunks (full fine-tuning); null when it binds whole.
   */
  split: RowChunks | null;
}

export interface NormBinding {
  weight: Tensor; // (C)
  bias: Tensor | null; // (C), LayerNorm only
  dweight: Tensor | null;
  dbias: Tensor | null;
}

export interface BottleneckBinding {
  size: number;
  act: ActivationKind;
  downW: Tensor; // (size,C)
  downB: Tensor; // (size)
  upW: Tensor; // (C,size)
  upB: Tensor; // (C)
  grads: { downW: Tensor; downB: Tensor; upW: Tensor; upB: Tensor } | null;
}

export interface PrefixBinding {
  P: number;
  kv: Tensor; // prompt_embeddings (P, L·2·NKV·HS)
  dkv: Tensor | null;
  offset: number;
  stride: number;
}

export interface LayerBinding {
  norm1: NormBinding;
  q: LinearBinding;
  k: LinearBinding;
  v: LinearBinding;
  /** Qwen3's per-head q/k RMSNorm (weights (HS)), null elsewhere */
  qNorm: NormBinding | null;
  kNorm: NormBinding | null;
  o: LinearBinding;
  norm2: NormBinding;
  mlpIn: LinearBinding[];
  mlpOut: LinearBinding;
  attnAdapter: BottleneckBinding | null;
  mlpAdapter: BottleneckBinding | null;
  prefix: PrefixBinding | null;
}

/** Rows of an embedding-like matrix, possibly in several chunks (tensors bigger than one binding). */
export interface RowChunks {
  chunks: { tensor: Tensor; rowStart: number; rows: number }[];
  grads: Tensor[] | null;
}

export interface ModelBinding {
  wte: RowChunks; // (V,C)
  wpe: RowChunks | null; // (maxPositions,C)
  layers: LayerBinding[];
  finalNorm: NormBinding;
  lmHead: RowChunks; // (V,C)
  /** the number of prefix positions every layer prepends (0 without prefix tuning) */
  prefixLength: number;
  /** the reward model's head (adapters/score.ts) when the attached method carries one */
  score: { weight: Tensor; dweight: Tensor | null } | null; // (1,C)
}

/**
 * What the model reads: base weights, plus (when a method is attached) the trainable store and its
 * gradients. Full fine-tuning reads every weight from the trainable store.
 */
export function bindModel(
  arch: Architecture,
  base: ParamStore,
  method: MethodConfig | null,
  trainable: ParamStore | null,
  grads: ParamStore | null,
): ModelBinding {
  const full = method?.peft_type === 'FULL';
  const weights = full ? trainable! : base;
  const gradOf = (name: string, block = 0, blocks = 1): Tensor | null => (full && grads ? grads.block(name, block, blocks) : null);

  const rows = (name: string): RowChunks => ({
    chunks: weights.chunks(name),
    grads: full && grads ? grads.chunks(name).map((c) => c.tensor) : null,
  });
  const norm = (n: NormDef): NormBinding => ({
    weight: weights.tensor(n.weight),
    bias: n.bias ? weights.tensor(n.bias) : null,
    dweight: gradOf(n.weight),
    dbias: n.bias ? gradOf(n.bias) : null,
  });
  let loraCount = 0;
  const linear = (def: LinearDef): LinearBinding => {
    let lora: LoraBinding | null = null;
    if (method?.peft_type === 'LORA') {
      const keys = loraKeys(def.module);
      if (trainable!.has(keys.A)) {
        lora = {
          id: loraCount++,
          r: method.r,
          scale: loraScaling(method),
          dropout: method.lora_dropout,
          A: trainable!.tensor(keys.A),
          B: trainable!.block(keys.B, def.block, def.blocks),
          dA: grads ? grads.tensor(keys.A) : null,
          dB: grads ? grads.block(keys.B, def.block, def.blocks) : null,
        };
      }
    }
    const split = def.blocks === 1 && weights.entry(def.weight).chunks.length > 1 ? rows(def.weight) : null;
    return {
      def,
      weight: split ? split.chunks[0].tensor : weights.block(def.weight, def.block, def.blocks),
      bias: def.bias ? weights.block(def.bias, def.block, def.blocks) : null,
      dweight: split ? null : gradOf(def.weight, def.block, def.blocks),
      dbias: def.bias ? gradOf(def.bias, def.block, def.blocks) : null,
      lora,
      split,
    };
  };
  const bottleneck = (module: string): BottleneckBinding | null => {
    if (method?.peft_type !== 'BOTTLENECK') return null;
    const k = bottleneckKeys(module);
    if (!trainable!.has(k.downW)) return null;
    const t = (n: string) => trainable!.tensor(n);
    const g = (n: string) => grads!.tensor(n);
    return {
      size: method.bottleneck_size,
      act: method.non_linearity === 'gelu' ? 'gelu_erf' : method.non_linearity,
      downW: t(k.downW),
      downB: t(k.downB),
      upW: t(k.upW),
      upB: t(k.upB),
      grads: grads ? { downW: g(k.downW), downB: g(k.downB), upW: g(k.upW), upB: g(k.upB) } : null,
    };
  };
  const prefixLength = method?.peft_type === 'PREFIX_TUNING' ? method.num_virtual_tokens : 0;
  const prefix = (layer: number): PrefixBinding | null => {
    if (method?.peft_type !== 'PREFIX_TUNING') return null;
    return {
      P: method.num_virtual_tokens,
      kv: trainable!.tensor(PREFIX_KEY),
      dkv: grads ? grads.tensor(PREFIX_KEY) : null,
      ...prefixLayerOffset(arch, layer),
    };
  };

  return {
    wte: rows(arch.wte),
    wpe: arch.wpe ? rows(arch.wpe) : null,
    layers: arch.layers.map((l, i) => ({
      norm1: norm(l.norm1),
      q: linear(l.q),
      k: linear(l.k),
      v: linear(l.v),
      qNorm: l.qNorm && norm(l.qNorm),
      kNorm: l.kNorm && norm(l.kNorm),
      o: linear(l.o),
      norm2: norm(l.norm2),
      mlpIn: l.mlpIn.map(linear),
      mlpOut: linear(l.mlpOut),
      attnAdapter: bottleneck(l.attnModule),
      mlpAdapter: bottleneck(l.mlpModule),
      prefix: prefix(i),
    })),
    finalNorm: norm(arch.finalNorm),
    lmHead: rows(arch.lmHead),
    prefixLength,
    score: trainable?.has(SCORE_KEY) ? { weight: trainable.tensor(SCORE_KEY), dweight: grads ? grads.tensor(SCORE_KEY) : null } : null,
  };
}

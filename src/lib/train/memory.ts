// What a run costs before it starts: trainable parameters and the GPU memory a training step needs.

import { isTargetModule, type MethodConfig } from '../adapters/config.ts';
import { layerLinears } from '../adapters/lora.ts';
import { trainableDef } from '../adapters/trainable.ts';
import { architectureFor } from '../model/architecture.ts';
import type { ModelConfig } from '../model/config.ts';
import { numel } from '../model/params.ts';

/** Trainable parameters of a method on a model: the elements of every tensor the method trains. */
export function trainableParamCount(m: MethodConfig, cfg: ModelConfig): number {
  return trainableDef(architectureFor(cfg), m).specs.reduce((s, spec) => s + numel(spec.shape), 0);
}

/** Parameters of the base model (tied embeddings counted once). */
export function baseParamCount(cfg: ModelConfig): number {
  return architectureFor(cfg).params.reduce((s, spec) => s + numel(spec.shape), 0);
}

export interface MemoryEstimate {
  /** base weights, float32 */
  weights: number;
  /** adapter weights, their gradients and AdamW's two moments: 4 float32 copies */
  trainable: number;
  /** activations kept for the backward pass, gradient scratch and the logits of one (B,T) step */
  activations: number;
  total: number;
}

/** The engine's logits buffer: all B·T rows, or row chunks of about 64 MiB (model/activations.ts). */
const HEAD_BYTES = 64 * 1024 * 1024;

/**
 * GPU memory a training step needs, in bytes, counted as the engine allocates it (everything float32):
 *
 *   weights      4 · (base parameters)
 *   trainable    4 · 4 · (trainable parameters)          value, gradient, AdamW m and v
 *   activations  4 · (B·T · perToken + headRows · V)     model/activations.ts with training on:
 *     perToken = (L+1)·C                                 residual stream between layers
 *              + L · [ 5C + 2(+2 LayerNorm)              n1, ao, mid, n2, mo; rstd1/2 (mean1/2)
 *                      + 2·NH·HS + 2·NKV·HS + NH         q, att, k, v; attention's lse
 *                      + NH·HS + NKV·HS (RoPE)           q and k before rotation
 *                      + (mlpIn + 1)·I                   gate/up (or c_fc) and the MLP hidden
 *                      + 2·S per bottleneck placement     adapter pre/post activation
 *                      + Σ r over LoRA'd projections ]    x·Aᵀ of each LoRA branch
 *              + C + 1(+1)                              final norm output, rstd (mean)
 *              + 2                                      per-token losses and their log-sum-exp
 *              + 3C + 2·NH·HS + 2·NKV·HS                gradient scratch shared by all layers
 *              + (NH·HS + NKV·HS) (RoPE) + (mlpIn+1)·I + max r + 2S + 2
 *     headRows = B·T, or a multiple of 64 rows near 64 MiB of logits when that is smaller.
 *
 * Not counted: split-K scratch and uniform buffers (a few MB at most), the validation pass (it reuses
 * a smaller inference set) and the browser's own overhead. Prefix tuning's virtual keys are read in
 * place from the trainable buffer, so they add nothing here.
 */
export function estimateTrainingMemory(cfg: ModelConfig, m: MethodConfig, B: number, T: number): MemoryEstimate {
  const arch = architectureFor(cfg);
  const { hidden: C, heads: NH, kvHeads: NKV, headDim: HS, intermediate: I, layers: L, vocabSize: V } = cfg;
  const ln = cfg.norm === 'layernorm' ? 1 : 0;
  const rope = cfg.positions === 'rope' ? 1 : 0;
  const mlpIn = arch.layers[0]?.mlpIn.length ?? 1;
  const S = m.peft_type === 'BOTTLENECK' ? m.bottleneck_size : 0;
  const placements = m.peft_type === 'BOTTLENECK' ? m.placement.length : 0;
  // LoRA branch width per layer: r for every targeted projection (GPT-2's fused c_attn: q, k and v).
  let loraPerLayer = 0;
  let maxR = 0;
  if (m.peft_type === 'LORA') {
    const layer0 = arch.layers[0];
    const lins = layer0 ? layerLinears(layer0) : [];
    loraPerLayer = lins.filter((lin) => isTargetModule(m.target_modules, lin.module)).length * m.r;
    maxR = loraPerLayer > 0 ? m.r : 0;
  }

  const perLayer =
    5 * C + 2 + 2 * ln + 2 * NH * HS + 2 * NKV * HS + NH + rope * (NH * HS + NKV * HS) + (mlpIn + 1) * I + 2 * S * placements + loraPerLayer;
  const grads = 3 * C + 2 * NH * HS + 2 * NKV * HS + rope * (NH * HS + NKV * HS) + (mlpIn + 1) * I + maxR + (S ? 2 * S : 0) + 2;
  const perToken = (L + 1) * C + L * perLayer + C + 1 + ln + 2 + grads;
  const fit = Math.max(64, Math.floor(HEAD_BYTES / (V * 4) / 64) * 64);
  const headRows = B * T <= fit ? B * T : fit;
  const activations = 4 * (B * T * perToken + headRows * V + 4);

  const weights = 4 * baseParamCount(cfg);
  // Full fine-tuning's trainable copy replaces nothing: the base weights stay too.
  const trainable = 16 * trainableParamCount(m, cfg);
  return { weights, trainable, activations, total: weights + trainable + activations };
}

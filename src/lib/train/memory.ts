// What a run costs before it starts: trainable parameters and the GPU memory a training step needs,
// counted from the same code that allocates the tensors (model/activations.ts, adapters/trainable.ts),
// so the estimate cannot drift from what the engine does.

import type { MethodConfig } from '../adapters/config.ts';
import { layerLinears, isLoraTarget } from '../adapters/lora.ts';
import { trainableDef } from '../adapters/trainable.ts';
import { activationBytes, HEAD_BYTES, type ActivationShape } from '../model/activations.ts';
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

/** The checkpoint is bfloat16 or float16 (config.json's torch_dtype): its weight matrices are stored f16 on the GPU. */
export function halfPrecisionWeights(cfg: ModelConfig): boolean {
  return cfg.torchDtype === 'bfloat16' || cfg.torchDtype === 'float16';
}

/**
 * GPU bytes of the base weights: 2 per element of the weight matrices (model/weights.ts stores them
 * as f16) when config.json's torch_dtype says the checkpoint is bfloat16 or float16, else 4; norm
 * weights and biases are always f32.
 */
export function baseWeightBytes(cfg: ModelConfig): number {
  const half = halfPrecisionWeights(cfg);
  return architectureFor(cfg).params.reduce((s, spec) => s + (half && spec.shape.length === 2 ? 2 : 4) * numel(spec.shape), 0);
}

/** The activations a method adds to a model: its LoRA branches and bottleneck widths, layer by layer. */
export function activationShapeFor(cfg: ModelConfig, m: MethodConfig): ActivationShape {
  return {
    layers: architectureFor(cfg).layers.map((layer, l) => ({
      lora:
        m.peft_type === 'LORA'
          ? layerLinears(layer)
              .filter((lin) => isLoraTarget(m, lin.module, l))
              .map((lin) => ({ module: lin.module, block: lin.block, r: m.r }))
          : [],
      bottleneck:
        m.peft_type === 'BOTTLENECK'
          ? { attn: m.placement.includes('self_attn') ? m.bottleneck_size : 0, mlp: m.placement.includes('mlp') ? m.bottleneck_size : 0 }
          : { attn: 0, mlp: 0 },
    })),
  };
}

export interface MemoryEstimate {
  /** base weights (f16 weight matrices for a half-precision checkpoint, see baseWeightBytes) */
  weights: number;
  /** trainable weights, their gradients and AdamW's two moments: 4 float32 copies */
  trainable: number;
  /** activations kept for the backward pass, gradient scratch and the logits of one (B,T) step */
  activations: number;
  total: number;
}

/**
 * GPU memory a training step needs, in bytes, as the engine allocates it (everything float32 but a
 * half-precision checkpoint's weight matrices): the base weights, four copies of the trainable parameters (value, gradient, AdamW m and v; full
 * fine-tuning's copy comes on top of the base weights), and the training activations of one (B,T)
 * micro-batch exactly as model/activations.ts sizes them.
 *
 * Not counted: split-K scratch and uniform buffers (a few MB at most), the validation pass (it reuses
 * a smaller inference set) and the browser's own overhead. Prefix tuning's virtual keys are read in
 * place from the trainable buffer, so they add nothing to the activations.
 */
export function estimateTrainingMemory(cfg: ModelConfig, m: MethodConfig, B: number, T: number, headBytes = HEAD_BYTES): MemoryEstimate {
  const weights = baseWeightBytes(cfg);
  const trainable = 16 * trainableParamCount(m, cfg);
  const activations = activationBytes(cfg, activationShapeFor(cfg, m), B, T, true, headBytes);
  return { weights, trainable, activations, total: weights + trainable + activations };
}

/**
 * The GPU memory a run may plan on when the device says nothing better. WebGPU does not report a
 * device's memory; 4 GiB is what a browser tab on a common integrated GPU or a small discrete one can
 * allocate, and far more than any adapter on the shipped model needs (full fine-tuning of a model of
 * ~100M parameters at float32 alone needs 1.6 GB for weights, gradients and AdamW's moments).
 */
export const DEFAULT_MEMORY_BUDGET = 4 * 1024 ** 3;

const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(bytes < 10 * 1024 ** 2 ? 1 : 0)} MiB`;

/** The estimate in words: "weights 16 MiB + trainable (value, gradient, AdamW m, v) 63 MiB + activations 40 MiB = 119 MiB". */
export function describeMemory(e: MemoryEstimate): string {
  return `weights ${mb(e.weights)} + trainable weights, gradients and AdamW moments ${mb(e.trainable)} + activations ${mb(e.activations)} = ${mb(e.total)}`;
}

/** Null when the estimate fits `budget` bytes; otherwise the refusal, with the numbers. */
export function memoryProblem(e: MemoryEstimate, budget: number, method: MethodConfig): string | null {
  if (e.total <= budget) return null;
  const what = method.peft_type === 'FULL' ? 'full fine-tuning' : 'this run';
  return `${what} needs ${describeMemory(e)}, more than the ${mb(budget)} of GPU memory it may use: pick a smaller batch or sequence length${method.peft_type === 'FULL' ? ', or a PEFT method (LoRA trains a fraction of the weights)' : ''}`;
}

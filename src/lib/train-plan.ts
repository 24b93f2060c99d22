// The training plan: everything the training screen needs to start a run, built by the dataset and
// method screens (src/ui/playground.svelte.ts keeps the current one). It is plain data — typed arrays
// and numbers, no class instances — so it can be posted to the worker as is (transfer the Int32Arrays'
// buffers, or copy them if the page keeps using the plan).
//
//   data    the dataset, prepared: packed (rows,T) inputs and targets for train and validation
//           (src/lib/data/pack.ts's convention: targets are -100 where the loss does not count)
//   method  LoRA / bottleneck adapter / prefix tuning and its settings
//   hyper   optimiser and schedule settings (all defaults in DEFAULT_HYPER, with a comment on each)

import type { DatasetFormat, PackedRows, PackMode } from './data';
import type { BottleneckNonLinearity, BottleneckPlacement } from './peft/config';

// ─── method ──────────────────────────────────────────────────────────────────────────────────────

/** LoRA (PEFT's LoraConfig): y = x·Wᵀ + scaling·(dropout(x)·Aᵀ)·Bᵀ on every targeted projection. */
export interface LoraMethod {
  kind: 'lora';
  /** rank of the update B·A */
  r: number;
  /** scaling = alpha / r (alpha / √r with rslora) */
  alpha: number;
  /** dropout on the LoRA branch's input while training, 0 ≤ p < 1 */
  dropout: number;
  /** module names as PEFT matches them (a path suffix): 'q_proj', 'v_proj', … */
  targetModules: string[];
  /** rank-stabilised LoRA: scaling alpha/√r */
  rslora: boolean;
}

/** A bottleneck adapter (Houlsby): y ← y + up(act(down(y))) after the chosen sublayers of every layer. */
export interface BottleneckMethod {
  kind: 'bottleneck';
  /** width of the bottleneck */
  size: number;
  /** after the attention block's output ('self_attn') and/or the MLP's ('mlp'); at least one */
  placement: BottleneckPlacement[];
  nonLinearity: BottleneckNonLinearity;
}

/** Prefix tuning (PEFT's PREFIX_TUNING, no projection): P trainable key/value positions in every layer. */
export interface PrefixMethod {
  kind: 'prefix';
  numVirtualTokens: number;
}

export type MethodPlan = LoraMethod | BottleneckMethod | PrefixMethod;
export type MethodKind = MethodPlan['kind'];

// ─── hyper-parameters ────────────────────────────────────────────────────────────────────────────

/**
 * How long to train. The user picks epochs or steps; `steps` is always the resolved number of
 * optimiser steps (epochs × stepsPerEpoch when by epochs), so the trainer only reads `steps`.
 */
export interface HyperParams {
  /** peak learning rate of AdamW */
  lr: number;
  /** what the user chose to fix: a number of epochs, or of steps */
  lengthBy: 'epochs' | 'steps';
  /** epochs asked for (meaningful when lengthBy is 'epochs') */
  epochs: number;
  /** optimiser steps to run, resolved: the trainer runs exactly this many */
  steps: number;
  /** B: rows per step */
  batchSize: number;
  /** T: positions per row (the packed rows' T) */
  seqLen: number;
  /** steps of linear warm-up from 0 to lr */
  warmup: number;
  /** AdamW decoupled weight decay */
  weightDecay: number;
  /** seeds adapter initialisation, dropout and the order of batches */
  seed: number;
  /** clip the global gradient norm to this (0: no clipping) */
  gradClip: number;
  /** evaluate the validation loss every this many steps (and at the end) */
  evalEvery: number;
  /** AdamW β1, β2 and ε */
  beta1: number;
  beta2: number;
  eps: number;
}

// ─── data ────────────────────────────────────────────────────────────────────────────────────────

export interface PlanData {
  /** what the user picked: a file name, "train.jsonl + valid.jsonl", or a built-in sample's title */
  name: string;
  format: DatasetFormat;
  packMode: PackMode;
  /** training rows (rows,T) */
  train: PackedRows;
  /** validation rows (rows,T); rows is 0 when there was nothing to hold out (a one-example dataset) */
  validation: PackedRows;
  /** how the validation split was made, and its description for the UI */
  split: 'file' | 'auto' | 'none';
  splitNote: string;
  /** examples in each split (before packing) */
  trainExamples: number;
  validationExamples: number;
  /** bad records the user chose to skip (0 unless they did), over all files */
  skippedRecords: number;
  /**
   * Prompts from the validation examples for the compare screen, as the model must see them to
   * continue as it was trained (the chat template / Alpaca prompt already applied). At most 8.
   */
  quickPrompts: string[];
  /** what each quick prompt's example answered (the completion / assistant turn / output), same order */
  quickReferences: string[];
  /** token id of padding in the rows (targets there are -100, so its value never reaches the loss) */
  padId: number;
}

/** The base model the plan was made for (the tokenizer and the trainable shapes depend on it). */
export interface PlanModel {
  id: string;
}

export interface PlanEstimate {
  trainableParams: number;
  /** bytes of GPU memory training is expected to need (see estimateTrainingMemory) */
  memoryBytes: number;
}

export interface TrainingPlan {
  model: PlanModel;
  data: PlanData;
  method: MethodPlan;
  hyper: HyperParams;
  estimate: PlanEstimate;
}

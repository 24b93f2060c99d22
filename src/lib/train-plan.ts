// The training plan: everything the training screen needs to start a run, built by the dataset and
// method screens (src/ui/playground.svelte.ts keeps the current one). It is plain data — typed arrays
// and numbers, no class instances — so it can be posted to the worker as is (transfer the Int32Arrays'
// buffers, or copy them if the page keeps using the plan).
//
//   data    the dataset, prepared: packed (rows,T) inputs and targets for train and validation
//           (src/lib/data/pack.ts's convention: targets are -100 where the loss does not count)
//   method  LoRA / bottleneck adapter / prefix tuning and its settings
//   hyper   optimiser and schedule settings (all defaults in DEFAULT_HYPER, with a comment on each)

import { bottleneckSpecs } from './adapters/bottleneck';
import { type BottleneckConfig, isTargetModule, type LoraConfig, type PrefixConfig } from './adapters/config';
import { allLinears, loraSpecs } from './adapters/lora';
import { prefixSpecs } from './adapters/prefix';
import {
  alpacaPrompt,
  type ChatTemplateFn,
  type DatasetFormat,
  describeWhere,
  type Example,
  type PackedRows,
  type PackMode,
  PREFERENCE_NOTE,
  type PreparedData,
} from './data';
import { type Architecture, architectureFor } from './model/architecture';
import type { ModelConfig } from './model/config';
import { numel, type ParamSpec } from './model/params';
import {
  bottleneckConfig,
  type BottleneckNonLinearity,
  type BottleneckPlacement,
  loraConfig,
  type PeftConfig,
  prefixConfig,
} from './peft/config';

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

// ─── defaults ────────────────────────────────────────────────────────────────────────────────────
// Chosen for the shipped 4M-parameter model and datasets of a few dozen examples: big enough steps
// that a few hundred of them change the output visibly, small enough to stay stable.

export const DEFAULT_LORA_METHOD: LoraMethod = {
  kind: 'lora',
  r: 8, // rank 8 is PEFT's default; tiny data needs no more
  alpha: 16, // scaling alpha/r = 2, the common 2·r rule
  dropout: 0, // PEFT's default; a few hundred steps on a few dozen rows rarely overfit first
  targetModules: [], // filled with every projection of the loaded model (defaultTargetModules)
  rslora: false,
};

export const DEFAULT_BOTTLENECK_METHOD: BottleneckMethod = {
  kind: 'bottleneck',
  size: 16, // C/16 for the default model (C = 256)
  placement: ['self_attn', 'mlp'],
  nonLinearity: 'relu', // Houlsby's adapters use a plain nonlinearity; relu is the fixtures' choice
};

export const DEFAULT_PREFIX_METHOD: PrefixMethod = {
  kind: 'prefix',
  numVirtualTokens: 8, // each virtual token costs L·2·NKV·HS parameters (2,048 on the default model)
};

export const DEFAULT_METHODS: Readonly<{ lora: LoraMethod; bottleneck: BottleneckMethod; prefix: PrefixMethod }> = {
  lora: DEFAULT_LORA_METHOD,
  bottleneck: DEFAULT_BOTTLENECK_METHOD,
  prefix: DEFAULT_PREFIX_METHOD,
};

/**
 * Peak learning rate per method. LoRA and adapters start as the identity (B = 0, up = 0) and move
 * from there; prefix keys/values start as N(0,1) and need bigger steps to matter.
 */
export const DEFAULT_LR: Readonly<Record<MethodKind, number>> = { lora: 2e-3, bottleneck: 2e-3, prefix: 1e-2 };

export const DEFAULT_HYPER: HyperParams = {
  lr: DEFAULT_LR.lora,
  lengthBy: 'steps',
  epochs: 20, // used when the user switches to epochs
  steps: 200, // ~50 epochs of a 32-example set at B=8: enough to see the style change
  batchSize: 8,
  seqLen: 128, // every built-in sample fits; the default model was trained at up to 512
  warmup: 10,
  weightDecay: 0, // adapters are small and start at the identity; decay only pulls them back to it
  seed: 0,
  gradClip: 1, // as nanoGPT/llm.c
  evalEvery: 20,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
};

/** Short module names of every projection of a model, in layer order, once each ('q_proj', …). */
export function projectionNames(cfg: ModelConfig): string[] {
  const names: string[] = [];
  for (const lin of allLinears(architectureFor(cfg))) {
    const short = lin.module.split('.').pop()!;
    if (!names.includes(short)) names.push(short);
  }
  return names;
}

/** LoRA on every projection of the model (PEFT's 'all-linear' without lm_head), as QLoRA recommends. */
export function defaultTargetModules(cfg: ModelConfig): string[] {
  return projectionNames(cfg);
}

/** The default method of a kind for a model. */
export function defaultMethod(kind: MethodKind, cfg: ModelConfig): MethodPlan {
  if (kind === 'lora') return { ...DEFAULT_LORA_METHOD, targetModules: defaultTargetModules(cfg) };
  if (kind === 'bottleneck') return { ...DEFAULT_BOTTLENECK_METHOD, placement: [...DEFAULT_BOTTLENECK_METHOD.placement] };
  return { ...DEFAULT_PREFIX_METHOD };
}

// ─── conversions ─────────────────────────────────────────────────────────────────────────────────

/** The engine's adapter config (src/lib/adapters/config.ts) for a method. */
export function toAdapterConfig(m: MethodPlan): LoraConfig | BottleneckConfig | PrefixConfig {
  switch (m.kind) {
    case 'lora':
      return { method: 'lora', r: m.r, alpha: m.alpha, dropout: m.dropout, targetModules: [...m.targetModules], useRslora: m.rslora };
    case 'bottleneck':
      return {
        method: 'bottleneck',
        size: m.size,
        nonlinearity: m.nonLinearity,
        afterAttention: m.placement.includes('self_attn'),
        afterMlp: m.placement.includes('mlp'),
      };
    case 'prefix':
      return { method: 'prefix', numVirtualTokens: m.numVirtualTokens };
  }
}

/** adapter_config.json as PEFT writes it for this method on this base model. */
export function toPeftConfig(m: MethodPlan, cfg: ModelConfig, baseModel: string | null): PeftConfig {
  switch (m.kind) {
    case 'lora':
      return loraConfig({
        r: m.r,
        alpha: m.alpha,
        dropout: m.dropout,
        targetModules: m.targetModules,
        useRslora: m.rslora,
        baseModel,
        fanInFanOut: cfg.family === 'gpt2',
      });
    case 'bottleneck':
      return bottleneckConfig({ size: m.size, nonLinearity: m.nonLinearity, placement: m.placement, baseModel });
    case 'prefix':
      return prefixConfig({
        numVirtualTokens: m.numVirtualTokens,
        layers: cfg.layers,
        kvHeads: cfg.kvHeads,
        headDim: cfg.headDim,
        hidden: cfg.hidden,
        baseModel,
      });
  }
}

// ─── checks ──────────────────────────────────────────────────────────────────────────────────────

const isInt = (x: number, lo: number, hi = Infinity) => Number.isInteger(x) && x >= lo && x <= hi;
const isNum = (x: number, lo: number, hi = Infinity) => typeof x === 'number' && Number.isFinite(x) && x >= lo && x <= hi;

/** Every problem with a method's settings on this model, each a sentence; [] when it can train. */
export function methodProblems(m: MethodPlan, cfg: ModelConfig): string[] {
  const p: string[] = [];
  switch (m.kind) {
    case 'lora': {
      if (!isInt(m.r, 1, 1024)) p.push(`LoRA rank must be a whole number from 1 to 1024 (got ${m.r})`);
      if (!isNum(m.alpha, Number.MIN_VALUE)) p.push(`LoRA alpha must be a number above 0 (got ${m.alpha})`);
      if (!isNum(m.dropout, 0) || m.dropout >= 1) p.push(`LoRA dropout must be at least 0 and below 1 (got ${m.dropout})`);
      const known = projectionNames(cfg);
      if (m.targetModules.length === 0) p.push('LoRA needs at least one target module');
      const unknown = m.targetModules.filter((t) => !known.includes(t));
      if (unknown.length) p.push(`this model has no module ${unknown.map((u) => `"${u}"`).join(', ')} (it has ${known.join(', ')})`);
      break;
    }
    case 'bottleneck':
      if (!isInt(m.size, 1, 4 * cfg.hidden)) p.push(`bottleneck size must be a whole number from 1 to ${4 * cfg.hidden} (got ${m.size})`);
      if (m.placement.length === 0) p.push('place the bottleneck adapter after attention, after the MLP, or both');
      break;
    case 'prefix':
      if (!isInt(m.numVirtualTokens, 1, 512)) p.push(`virtual tokens must be a whole number from 1 to 512 (got ${m.numVirtualTokens})`);
      break;
  }
  return p;
}

/** Every problem with the hyper-parameters on this model, each a sentence; [] when they are usable. */
export function hyperProblems(h: HyperParams, cfg: ModelConfig): string[] {
  const p: string[] = [];
  if (!isNum(h.lr, Number.MIN_VALUE, 1)) p.push(`learning rate must be above 0 and at most 1 (got ${h.lr})`);
  if (h.lengthBy === 'epochs' && !isInt(h.epochs, 1, 100_000)) p.push(`epochs must be a whole number of at least 1 (got ${h.epochs})`);
  if (h.lengthBy === 'steps' && !isInt(h.steps, 1, 10_000_000)) p.push(`steps must be a whole number of at least 1 (got ${h.steps})`);
  if (!isInt(h.batchSize, 1, 512)) p.push(`batch size must be a whole number from 1 to 512 (got ${h.batchSize})`);
  if (!isInt(h.seqLen, 8, cfg.maxPositions)) {
    p.push(`max sequence length must be a whole number from 8 to ${cfg.maxPositions}, the model's limit (got ${h.seqLen})`);
  }
  if (!isInt(h.warmup, 0)) p.push(`warm-up must be a whole number of steps, 0 or more (got ${h.warmup})`);
  if (!isNum(h.weightDecay, 0, 10)) p.push(`weight decay must be from 0 to 10 (got ${h.weightDecay})`);
  if (!isInt(h.seed, 0, 2 ** 32 - 1)) p.push(`seed must be a whole number from 0 to 4294967295 (got ${h.seed})`);
  if (!isNum(h.gradClip, 0)) p.push(`gradient clipping must be 0 (off) or a positive norm (got ${h.gradClip})`);
  if (!isInt(h.evalEvery, 1)) p.push(`evaluate every must be a whole number of steps, at least 1 (got ${h.evalEvery})`);
  if (!isNum(h.beta1, 0) || h.beta1 >= 1 || !isNum(h.beta2, 0) || h.beta2 >= 1) p.push('AdamW betas must be at least 0 and below 1');
  if (!isNum(h.eps, Number.MIN_VALUE)) p.push('AdamW epsilon must be above 0');
  return p;
}

/** Optimiser steps in one pass over `rows` training rows (the last batch is topped up, see trainBatches). */
export function stepsPerEpoch(rows: number, batchSize: number): number {
  return rows > 0 && batchSize > 0 ? Math.ceil(rows / batchSize) : 0;
}

/** The hyper-parameters with `steps` resolved from epochs when the length is given in epochs. */
export function resolveSteps(h: HyperParams, trainRows: number): HyperParams {
  if (h.lengthBy === 'steps') return { ...h };
  return { ...h, steps: h.epochs * stepsPerEpoch(trainRows, h.batchSize) };
}

// ─── size and memory ─────────────────────────────────────────────────────────────────────────────

function specsOf(m: MethodPlan, arch: Architecture): ParamSpec[] {
  const c = toAdapterConfig(m);
  if (c.method === 'lora') return loraSpecs(arch, c);
  if (c.method === 'bottleneck') return bottleneckSpecs(arch, c);
  return prefixSpecs(arch, c);
}

/** Trainable parameters of a method on a model: the elements of every tensor the adapter adds. */
export function trainableParamCount(m: MethodPlan, cfg: ModelConfig): number {
  return specsOf(m, architectureFor(cfg)).reduce((s, spec) => s + numel(spec.shape), 0);
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
export function estimateTrainingMemory(cfg: ModelConfig, m: MethodPlan, B: number, T: number): MemoryEstimate {
  const arch = architectureFor(cfg);
  const { hidden: C, heads: NH, kvHeads: NKV, headDim: HS, intermediate: I, layers: L, vocabSize: V } = cfg;
  const ln = cfg.norm === 'layernorm' ? 1 : 0;
  const rope = cfg.positions === 'rope' ? 1 : 0;
  const mlpIn = arch.layers[0]?.mlpIn.length ?? 1;
  const adapter = toAdapterConfig(m);
  const S = adapter.method === 'bottleneck' ? adapter.size : 0;
  const placements = adapter.method === 'bottleneck' ? Number(adapter.afterAttention) + Number(adapter.afterMlp) : 0;
  // LoRA branch width per layer: r for every targeted projection (GPT-2's fused c_attn: q, k and v).
  let loraPerLayer = 0;
  let maxR = 0;
  if (adapter.method === 'lora') {
    const layer0 = arch.layers[0];
    const lins = layer0 ? [layer0.q, layer0.k, layer0.v, layer0.o, ...layer0.mlpIn, layer0.mlpOut] : [];
    loraPerLayer = lins.filter((lin) => isTargetModule(adapter.targetModules, lin.module)).length * adapter.r;
    maxR = loraPerLayer > 0 ? adapter.r : 0;
  }

  const perLayer =
    5 * C + 2 + 2 * ln + 2 * NH * HS + 2 * NKV * HS + NH + rope * (NH * HS + NKV * HS) + (mlpIn + 1) * I + 2 * S * placements + loraPerLayer;
  const grads = 3 * C + 2 * NH * HS + 2 * NKV * HS + rope * (NH * HS + NKV * HS) + (mlpIn + 1) * I + maxR + (S ? 2 * S : 0) + 2;
  const perToken = (L + 1) * C + L * perLayer + C + 1 + ln + 2 + grads;
  const fit = Math.max(64, Math.floor(HEAD_BYTES / (V * 4) / 64) * 64);
  const headRows = B * T <= fit ? B * T : fit;
  const activations = 4 * (B * T * perToken + headRows * V + 4);

  const weights = 4 * baseParamCount(cfg);
  const trainable = 16 * trainableParamCount(m, cfg);
  return { weights, trainable, activations, total: weights + trainable + activations };
}

// ─── building a plan ─────────────────────────────────────────────────────────────────────────────

/** At most this many quick prompts go to the compare screen. */
export const MAX_QUICK_PROMPTS = 8;

/**
 * Prompts to compare base and tuned output on, from (validation) examples: what the model must be
 * given to continue as it was trained, and what the example answered.
 *   prompt-completion  the prompt                          → the completion
 *   alpaca             the Alpaca prompt                   → the output
 *   messages           the conversation up to its last assistant turn, with the chat template's
 *                      generation prompt                   → that assistant turn
 *   text               its first few words (a third, at most 8) → the rest
 * Duplicates are dropped; preference data gives none.
 */
export function quickPrompts(
  examples: readonly Example[],
  ctx: { chatTemplate?: ChatTemplateFn | null } = {},
  max = MAX_QUICK_PROMPTS,
): { prompts: string[]; references: string[] } {
  const prompts: string[] = [];
  const references: string[] = [];
  for (const ex of examples) {
    if (prompts.length >= max) break;
    let pair: [string, string] | null = null;
    switch (ex.format) {
      case 'prompt-completion':
        if (ex.prompt.trim() !== '') pair = [ex.prompt, ex.completion];
        break;
      case 'alpaca':
        pair = [alpacaPrompt(ex.instruction, ex.input), ex.output];
        break;
      case 'messages': {
        const last = ex.messages.map((m) => m.role).lastIndexOf('assistant');
        if (last > 0 && ctx.chatTemplate) pair = [ctx.chatTemplate(ex.messages.slice(0, last), true), ex.messages[last].content];
        break;
      }
      case 'text': {
        const words = ex.text.trim().split(/\s+/);
        const k = Math.min(8, Math.max(1, Math.floor(words.length / 3)));
        if (words.length > 1) pair = [words.slice(0, k).join(' '), words.slice(k).join(' ')];
        break;
      }
      case 'preference':
        break;
    }
    if (pair && !prompts.includes(pair[0])) {
      prompts.push(pair[0]);
      references.push(pair[1]);
    }
  }
  return { prompts, references };
}

/** No rows, T positions each: the validation split of a dataset too small to hold one out. */
export function emptyRows(T: number): PackedRows {
  return {
    T,
    rows: 0,
    inputIds: new Int32Array(0),
    targets: new Int32Array(0),
    countedPerRow: new Int32Array(0),
    countedTokens: 0,
    warnings: [],
  };
}

export interface PlanInput {
  model: { id: string; config: ModelConfig };
  /** the dataset's name as the user knows it */
  name: string;
  /** prepareTraining's output (or one re-packed at hyper.seqLen) */
  prepared: PreparedData;
  /** the good examples of the training and validation files, to find the validation examples' prompts */
  sourceExamples: readonly Example[];
  chatTemplate: ChatTemplateFn | null;
  padId: number;
  /** bad records the user chose to skip */
  skippedRecords: number;
  method: MethodPlan;
  hyper: HyperParams;
}

export class PlanError extends Error {
  /** Every reason the plan cannot be made, each a sentence. */
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('; '));
    this.name = 'PlanError';
    this.problems = problems;
  }
}

/** Every reason `buildTrainingPlan` would refuse these inputs; [] when it would succeed. */
export function planProblems(input: PlanInput): string[] {
  const { prepared, hyper, model } = input;
  const p = [...methodProblems(input.method, model.config), ...hyperProblems(hyper, model.config)];
  if (prepared.format === 'preference') p.push(PREFERENCE_NOTE);
  if (prepared.train.packed.T !== hyper.seqLen) {
    p.push(`the dataset is packed into rows of ${prepared.train.packed.T} positions, not the ${hyper.seqLen} asked for; prepare it again`);
  }
  if (prepared.train.packed.rows === 0) p.push('no training row has a token the loss counts');
  return p;
}

/** A plain copy (no shared arrays, no reactive proxies: structuredClone refuses Svelte's). */
export function copyMethod(m: MethodPlan): MethodPlan {
  if (m.kind === 'lora') return { ...m, targetModules: [...m.targetModules] };
  if (m.kind === 'bottleneck') return { ...m, placement: [...m.placement] };
  return { ...m };
}

/** The plan the training screen runs. Throws a PlanError naming every problem. */
export function buildTrainingPlan(input: PlanInput): TrainingPlan {
  const problems = planProblems(input);
  if (problems.length) throw new PlanError(problems);
  const { prepared, model, method } = input;
  const hyper = resolveSteps(input.hyper, prepared.train.packed.rows);
  const valKeys = new Set((prepared.validation?.examples ?? []).map((e) => describeWhere(e.where)));
  const validationSource = input.sourceExamples.filter((e) => valKeys.has(describeWhere(e.where)));
  const quick = quickPrompts(validationSource, { chatTemplate: input.chatTemplate });
  return {
    model: { id: model.id },
    data: {
      name: input.name,
      format: prepared.format,
      packMode: prepared.packMode,
      train: prepared.train.packed,
      validation: prepared.validation?.packed ?? emptyRows(hyper.seqLen),
      split: prepared.split,
      splitNote: prepared.splitNote,
      trainExamples: prepared.train.examples.length,
      validationExamples: prepared.validation?.examples.length ?? 0,
      skippedRecords: input.skippedRecords,
      quickPrompts: quick.prompts,
      quickReferences: quick.references,
      padId: input.padId,
    },
    method: copyMethod(method),
    hyper,
    estimate: {
      trainableParams: trainableParamCount(method, model.config),
      memoryBytes: estimateTrainingMemory(model.config, method, hyper.batchSize, hyper.seqLen).total,
    },
  };
}

// The flags that describe a run — the model, the dataset files, the method, the objective and the
// training settings — and the TrainingPlan they make, shared by `train` (which runs it) and
// `export-run` (which hands it to TRL). The flags make the one method config, the one objective config
// and the one training config (the page's defaults for what is left out); the files go through the
// page's data layer and the plan through the page's checks (train/plan.ts), so a run planned here is
// the run the page would plan. --from-adapter continues a saved PEFT adapter: it is read and checked
// against the model by the page's import path (peft/), and its method is the run's.

import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { MethodConfig, MethodType } from '../lib/adapters/config.ts';
import type { ModelTokenizer } from '../lib/base/model-source.ts';
import { type ParsedDataset, prepareTraining, PrepareError } from '../lib/data';
import { datasetName, type LoadedFiles } from '../lib/data/load.ts';
import { type ModelConfig, parseModelConfig } from '../lib/model/config.ts';
import { importAdapter, readAdapterFiles } from '../lib/peft/adapter.ts';
import { PeftError } from '../lib/peft/config.ts';
import { BROWN_HELDOUT_PATH } from '../lib/pretrain/general.ts';
import { configProblems, methodProblems, objectiveProblems } from '../lib/train/checks.ts';
import { DEFAULT_MEMORY_BUDGET } from '../lib/train/memory.ts';
import { DEFAULTS, defaultMethod, defaultObjective, defaultTrainConfig, type TrainConfig } from '../lib/train/config.ts';
import { DPO_LOSS_TYPES, OBJECTIVE_TYPES, type ObjectiveConfig, type ObjectiveType } from '../lib/train/objective.ts';
import { buildTrainingPlan, PlanError, type TrainingPlan } from '../lib/train/plan.ts';
import type { StartWeights } from '../lib/train/run.ts';
import { flagName, type Parsed, UsageError } from './args.ts';
import { checkReady, listed, readDataset } from './data.ts';
import { adapterFiles, existingFile, existingFolder, InputError } from './model.ts';
import type { Reporter } from './output.ts';

const LORA = ['r', 'alpha', 'dropout', 'targets', 'rslora'] as const;
const BOTTLENECK = ['size'] as const;
const PREFIX = ['prefixTokens'] as const;
const METHODS = ['lora', 'bottleneck', 'prefix', 'full'] as const;
type Method = (typeof METHODS)[number];
const PEFT_TYPES: Record<Method, MethodType> = { lora: 'LORA', bottleneck: 'BOTTLENECK', prefix: 'PREFIX_TUNING', full: 'FULL' };
/** Flags of one objective only, by objective (--beta belongs to every preference objective). */
const OBJECTIVE_FLAGS = { lossType: 'dpo', labelSmoothing: 'dpo', simpoGamma: 'simpo' } as const;
const O = DEFAULTS.objectives;

const M = DEFAULTS.methods;
const D = DEFAULTS.training;
/** Every flag of a run but where its result goes (each command names its own --out). */
export const RUN_FLAGS = {
  model: { kind: 'string', value: 'DIR', required: true, help: 'model folder in the Hugging Face layout' },
  data: { kind: 'string', value: 'FILE', required: true, help: 'training data: .jsonl, .json, .csv, .tsv or .txt, in any format the page reads' },
  valid: { kind: 'string', value: 'FILE', help: 'validation data in the same format (without it, about 10% of --data is held out)' },
  method: {
    kind: 'string',
    value: 'METHOD',
    choices: METHODS,
    help: 'where the trainable weights sit; full trains every weight and writes a model folder (required unless --from-adapter gives it)',
  },
  general: {
    kind: 'string',
    value: 'FILE|none',
    help: `plain text whose perplexity is measured before and after training, to see what the run forgets (the built-in held-out Brown slice, static/${BROWN_HELDOUT_PATH}; none: skip)`,
  },
  memoryBudget: {
    kind: 'int',
    value: 'MB',
    min: 1,
    help: `GPU memory the run may need; a larger estimate (weights, gradients, AdamW moments, activations) is refused with the numbers (${DEFAULT_MEMORY_BUDGET / 1024 ** 2})`,
  },
  fromAdapter: {
    kind: 'string',
    value: 'DIR',
    help: 'continue this saved PEFT adapter (a folder with adapter_config.json and adapter_model.safetensors, or its .zip): its method and weights are the run\'s start, and DPO\'s reference',
  },
  objective: {
    kind: 'string',
    value: 'NAME',
    choices: OBJECTIVE_TYPES,
    help: 'what the loss is: sft (cross-entropy on the counted tokens); dpo, simpo or orpo train on preference pairs {prompt, chosen, rejected}; reward trains a reward model (the method + a score head) on them (sft)',
  },
  beta: {
    kind: 'number',
    min: 0,
    help: `β of a preference objective: DPO's deviation from the reference (beta; ${O.dpo.beta}), SimPO's reward scale (${O.simpo.beta}), ORPO's λ (${O.orpo.beta})`,
  },
  lossType: { kind: 'string', value: 'TYPE', choices: DPO_LOSS_TYPES, help: `DPO's loss: sigmoid, ipo or robust (loss_type; ${O.dpo.loss_type})` },
  labelSmoothing: {
    kind: 'number',
    min: 0,
    max: 0.5,
    belowMax: true,
    help: `robust DPO's share of flipped labels (label_smoothing; ${O.dpo.label_smoothing})`,
  },
  simpoGamma: { kind: 'number', min: 0, help: `SimPO's reward margin (simpo_gamma; ${O.simpo.simpo_gamma})` },
  margin: { kind: 'number', min: 0, help: `reward model: how far the chosen reward must exceed the rejected one, −log σ(r⁺ − r⁻ − margin) (${O.reward.margin})` },
  r: { kind: 'int', min: 1, help: `LoRA rank (r; ${M.LORA.r} when not given)` },
  alpha: { kind: 'number', min: 0, help: `LoRA alpha: the update is scaled by alpha/r (lora_alpha; ${M.LORA.lora_alpha})` },
  dropout: { kind: 'number', min: 0, max: 1, belowMax: true, help: `dropout on the LoRA branch's input while training (lora_dropout; ${M.LORA.lora_dropout})` },
  targets: { kind: 'list', value: 'NAMES', help: `LoRA target modules, e.g. q_proj,v_proj (target_modules; ${M.LORA.target_modules})` },
  rslora: { kind: 'boolean', help: 'rank-stabilised LoRA: scale by alpha/√r (use_rslora)' },
  size: { kind: 'int', min: 1, help: `bottleneck width (bottleneck_size; ${M.BOTTLENECK.bottleneck_size})` },
  prefixTokens: { kind: 'int', min: 1, help: `prefix tuning: virtual tokens per layer (num_virtual_tokens; ${M.PREFIX_TUNING.num_virtual_tokens})` },
  steps: { kind: 'int', min: 1, help: `optimizer steps (max_steps; ${D.max_steps})` },
  epochs: { kind: 'int', min: 1, help: 'passes over the training rows instead of --steps (num_train_epochs, with max_steps -1)' },
  lr: { kind: 'number', min: 0, help: `peak learning rate (learning_rate; by method: ${Object.entries(DEFAULTS.learningRate).map(([k, v]) => `${k} ${v}`).join(', ')})` },
  batch: { kind: 'int', min: 1, help: `rows per micro-batch, B (per_device_train_batch_size; ${D.per_device_train_batch_size})` },
  gradAccum: { kind: 'int', min: 1, help: `micro-batches per optimizer step (gradient_accumulation_steps; ${D.gradient_accumulation_steps})` },
  warmup: { kind: 'int', min: 0, help: `steps of linear warm-up (warmup_steps; ${D.warmup_steps})` },
  evalEvery: { kind: 'int', min: 1, help: `steps between validation losses (eval_steps; ${D.eval_steps})` },
  earlyStoppingPatience: { kind: 'int', min: 0, help: `stop after this many validation losses in a row without a new lowest; 0 never (early_stopping_patience; ${D.early_stopping_patience})` },
  seqLen: { kind: 'int', min: 2, help: `positions per packed row, T (max_length; ${D.max_length})` },
  seed: { kind: 'int', min: 0, max: 2 ** 32 - 1, help: `seeds initialisation, dropout and the order of batches (seed; ${D.seed})` },
  skipBad: { kind: 'boolean', help: 'leave out bad records and examples that cannot be rendered, instead of stopping' },
} as const;

export type RunArgs = Parsed<typeof RUN_FLAGS>;

/** What the flags ask for: the files, and the method and training config with the flags applied. */
export interface RunRequest {
  /** the model folder, absolute */
  model: string;
  /** its config.json */
  modelConfig: ModelConfig;
  data: string;
  valid: string | null;
  method: MethodConfig;
  objective: ObjectiveConfig;
  config: TrainConfig;
  /** --from-adapter: the adapter the run continues (its tensors, checked against the model), and what its import said */
  start: (StartWeights & { path: string; warnings: string[] }) | null;
}

/** Flags of another method than --method are a mistake, not something to ignore; with --from-adapter, the adapter fixes them all. */
function checkMethodFlags(args: RunArgs, fromAdapter: boolean): void {
  const own: Record<Method, readonly string[]> = { lora: LORA, bottleneck: BOTTLENECK, prefix: PREFIX, full: [] };
  const method = args.method as Method | undefined;
  for (const other of METHODS) {
    if (other === method && !fromAdapter) continue;
    for (const key of own[other]) {
      const v = args[key as keyof RunArgs];
      if (v === undefined || v === false) continue;
      if (fromAdapter) throw new UsageError(`--${flagName(key)}: --from-adapter continues an adapter whose settings are fixed; leave --${flagName(key)} out`);
      throw new UsageError(`--${flagName(key)} is a setting of --method ${other}, not ${method}`);
    }
  }
}

/** An objective's flags with another objective are a mistake too. */
function checkObjectiveFlags(args: RunArgs): void {
  const objective = (args.objective ?? 'sft') as ObjectiveType;
  if (objective === 'sft' && args.beta !== undefined) throw new UsageError('--beta is a setting of --objective dpo, simpo or orpo, not sft');
  for (const [key, owner] of Object.entries(OBJECTIVE_FLAGS)) {
    if (args[key as keyof RunArgs] !== undefined && objective !== owner) {
      throw new UsageError(`--${flagName(key)} is a setting of --objective ${owner}, not ${objective}`);
    }
  }
}

/** The method's defaults with the flags given. */
function methodOf(args: RunArgs): MethodConfig {
  const type = PEFT_TYPES[args.method as Method];
  const m = defaultMethod(type);
  if (m.peft_type === 'LORA') {
    m.r = args.r ?? m.r;
    m.lora_alpha = args.alpha ?? m.lora_alpha;
    m.lora_dropout = args.dropout ?? m.lora_dropout;
    m.target_modules = args.targets ?? m.target_modules;
    m.use_rslora = args.rslora;
  } else if (m.peft_type === 'BOTTLENECK') {
    m.bottleneck_size = args.size ?? m.bottleneck_size;
  } else if (m.peft_type === 'PREFIX_TUNING') {
    m.num_virtual_tokens = args.prefixTokens ?? m.num_virtual_tokens;
  }
  return m;
}

/** The objective's defaults (TRL's) with the flags given. */
function objectiveOf(args: RunArgs): ObjectiveConfig {
  const o = defaultObjective((args.objective ?? 'sft') as ObjectiveType);
  switch (o.type) {
    case 'sft':
      return o;
    case 'dpo':
      return { ...o, beta: args.beta ?? o.beta, loss_type: (args.lossType as typeof o.loss_type | undefined) ?? o.loss_type, label_smoothing: args.labelSmoothing ?? o.label_smoothing };
    case 'simpo':
      return { ...o, beta: args.beta ?? o.beta, simpo_gamma: args.simpoGamma ?? o.simpo_gamma };
    case 'orpo':
      return { ...o, beta: args.beta ?? o.beta };
    case 'reward':
      return { ...o, margin: args.margin ?? o.margin };
  }
}

/** The training defaults (the method's learning rate) with the flags given. */
function configOf(args: RunArgs, type: MethodType): TrainConfig {
  const c = defaultTrainConfig(type);
  return {
    ...c,
    max_steps: args.epochs !== undefined ? -1 : (args.steps ?? c.max_steps),
    num_train_epochs: args.epochs ?? c.num_train_epochs,
    gradient_accumulation_steps: args.gradAccum ?? c.gradient_accumulation_steps,
    warmup_steps: args.warmup ?? c.warmup_steps,
    eval_steps: args.evalEvery ?? c.eval_steps,
    early_stopping_patience: args.earlyStoppingPatience ?? c.early_stopping_patience,
    learning_rate: args.lr ?? c.learning_rate,
    per_device_train_batch_size: args.batch ?? c.per_device_train_batch_size,
    max_length: args.seqLen ?? c.max_length,
    seed: args.seed ?? c.seed,
  };
}

/**
 * --from-adapter, read as the page reads a dropped adapter and checked against the model's config.json
 * (peft/: every problem named) before anything loads; --method, if given as well, must be its method.
 */
async function startAdapter(args: RunArgs, model: string, modelConfig: ModelConfig): Promise<NonNullable<RunRequest['start']> & { method: MethodConfig }> {
  const path = args.fromAdapter!;
  let imported;
  try {
    const files = await adapterFiles('--from-adapter', path);
    imported = importAdapter(await readAdapterFiles(files), { name: basename(model), config: modelConfig });
  } catch (e) {
    if (e instanceof PeftError) throw new InputError(`--from-adapter ${path}: ${e.message}`, e.problems);
    throw e;
  }
  const method = imported.config.method;
  const named = Object.entries(PEFT_TYPES).find(([, t]) => t === method.peft_type)?.[0];
  if (args.method !== undefined && args.method !== named) {
    throw new UsageError(`--method ${args.method}: the adapter of --from-adapter ${path} is ${named}; leave --method out or give ${named}`);
  }
  return { path, name: imported.name ?? basename(path), tensors: imported.tensors, warnings: imported.warnings, method };
}

/**
 * Checks the flags, the files they name, and the method and training config against the model's
 * config.json with the page's own checks (train/checks.ts); returns what the plan will be made of.
 */
export async function runRequest(args: RunArgs): Promise<RunRequest> {
  if (args.method === undefined && args.fromAdapter === undefined) throw new UsageError('missing --method METHOD (or --from-adapter DIR, whose method the run continues)');
  checkMethodFlags(args, args.fromAdapter !== undefined);
  checkObjectiveFlags(args);
  if (args.epochs !== undefined && args.steps !== undefined) throw new UsageError('give --steps or --epochs, not both');
  const model = await existingFolder('--model', args.model);
  const configText = await readFile(join(model, 'config.json'), 'utf8').catch(() => null);
  if (configText === null) throw new InputError(`${args.model} is not a model folder: it has no config.json`);
  let modelConfig;
  try {
    modelConfig = parseModelConfig(configText);
  } catch (e) {
    throw new InputError(`${args.model}: ${(e as Error).message}`);
  }
  const data = await existingFile('--data', args.data);
  const valid = args.valid ? await existingFile('--valid', args.valid) : null;
  const start = args.fromAdapter !== undefined ? await startAdapter(args, model, modelConfig) : null;
  const method = start?.method ?? methodOf(args);
  const objective = objectiveOf(args);
  const config = configOf(args, method.peft_type);
  const problems = [...methodProblems(method, modelConfig), ...objectiveProblems(objective), ...configProblems(config, modelConfig)];
  if (problems.length) throw new InputError(`these settings cannot train ${args.model}: ${problems.join('; ')}`, problems);
  return { model, modelConfig, data, valid, method, objective, config, start: start && { path: start.path, name: start.name, tensors: start.tensors, warnings: start.warnings } };
}

export type RunFiles = LoadedFiles & { train: ParsedDataset };

/** The dataset files, read and checked as the page checks dropped files (before the model loads). */
export async function readRunFiles(args: RunArgs, out: Reporter): Promise<RunFiles> {
  const train = await readDataset('--data', args.data, out);
  const valid = args.valid ? await readDataset('--valid', args.valid, out) : null;
  return { ...checkReady(train, valid, args.skipBad, out, (args.objective ?? 'sft') as ObjectiveType), train };
}

/** What planning needs of the model: its id (the folder's name, as the page's shipped model), config.json and tokenizer. */
export interface PlanModel {
  id: string;
  config: ModelConfig;
  tokenizer: ModelTokenizer;
}

/** Renders, tokenizes and packs the files as the page does; returns the plan the page would make. */
export async function planRun(request: RunRequest, args: RunArgs, files: RunFiles, model: PlanModel, out: Reporter, signal: AbortSignal): Promise<TrainingPlan> {
  const { train, validation: valid } = files;
  const { tokenizer, chatTemplate } = model.tokenizer;
  out.status('data', `Tokenizing ${train.examples.length + (valid?.examples.length ?? 0)} examples…`);
  let prepared;
  try {
    prepared = await prepareTraining({ train, validation: valid, tokenizer, chatTemplate, seqLen: request.config.max_length, signal });
  } catch (e) {
    if (e instanceof PrepareError) throw new InputError(e.message);
    throw e;
  }
  const rendering = prepared.problems.filter((p) => p.severity === 'error');
  if (rendering.length && !args.skipBad) {
    const n = rendering.length;
    throw new InputError(`${n} example${n === 1 ? '' : 's'} cannot be rendered: skip ${n === 1 ? 'it' : 'them'} (--skip-bad) or fix the file`, listed(rendering));
  }
  for (const line of listed(prepared.problems, 5)) out.warning(line);
  out.status('data', prepared.splitNote);
  try {
    return buildTrainingPlan({
      model: { id: model.id, config: model.config },
      name: datasetName(files),
      prepared,
      sourceExamples: [...train.examples, ...(valid?.examples ?? [])],
      chatTemplate,
      padId: tokenizer.padId,
      skippedRecords: train.badRecords + (valid?.badRecords ?? 0) + rendering.length,
      method: request.method,
      objective: request.objective,
      config: request.config,
      memoryBudget: (args.memoryBudget ?? DEFAULT_MEMORY_BUDGET / 1024 ** 2) * 1024 ** 2,
    });
  } catch (e) {
    if (e instanceof PlanError) throw new InputError(`this run cannot start: ${e.problems.join('; ')}`, e.problems);
    throw e;
  }
}

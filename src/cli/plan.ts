// The flags that describe a run — the model, the dataset files, the method and the training settings —
// and the TrainingPlan they make, shared by `train` (which runs it) and `export-run` (which hands it to
// TRL). The flags make the one method config and the one training config (the page's defaults for
// what is left out); the files go through the page's data layer and the plan through the page's
// checks (train/plan.ts), so a run planned here is the run the page would plan.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MethodConfig, MethodType } from '../lib/adapters/config.ts';
import type { ModelTokenizer } from '../lib/base/model-source.ts';
import { type ParsedDataset, prepareTraining, PrepareError } from '../lib/data';
import { datasetName, type LoadedFiles } from '../lib/data/load.ts';
import { type ModelConfig, parseModelConfig } from '../lib/model/config.ts';
import { configProblems, methodProblems } from '../lib/train/checks.ts';
import { DEFAULTS, defaultMethod, defaultTrainConfig, type TrainConfig } from '../lib/train/config.ts';
import { buildTrainingPlan, PlanError, type TrainingPlan } from '../lib/train/plan.ts';
import { flagName, type Parsed, UsageError } from './args.ts';
import { checkReady, listed, readDataset } from './data.ts';
import { existingFile, existingFolder, InputError } from './model.ts';
import type { Reporter } from './output.ts';

const LORA = ['r', 'alpha', 'dropout', 'targets', 'rslora'] as const;
const BOTTLENECK = ['size'] as const;
const PREFIX = ['prefixTokens'] as const;
const METHODS = ['lora', 'bottleneck', 'prefix'] as const;
type Method = (typeof METHODS)[number];
const PEFT_TYPES: Record<Method, Exclude<MethodType, 'FULL'>> = { lora: 'LORA', bottleneck: 'BOTTLENECK', prefix: 'PREFIX_TUNING' };

const M = DEFAULTS.methods;
const D = DEFAULTS.training;
/** Every flag of a run but where its result goes (each command names its own --out). */
export const RUN_FLAGS = {
  model: { kind: 'string', value: 'DIR', required: true, help: 'model folder in the Hugging Face layout' },
  data: { kind: 'string', value: 'FILE', required: true, help: 'training data: .jsonl, .json, .csv, .tsv or .txt, in any format the page reads' },
  valid: { kind: 'string', value: 'FILE', help: 'validation data in the same format (without it, about 10% of --data is held out)' },
  method: { kind: 'string', value: 'METHOD', required: true, choices: METHODS, help: 'where the trainable weights sit' },
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
  config: TrainConfig;
}

/** Flags of another method than --method are a mistake, not something to ignore. */
function checkMethodFlags(args: RunArgs): void {
  const own: Record<Method, readonly string[]> = { lora: LORA, bottleneck: BOTTLENECK, prefix: PREFIX };
  const method = args.method as Method;
  for (const other of METHODS) {
    if (other === method) continue;
    for (const key of own[other]) {
      const v = args[key as keyof RunArgs];
      if (v !== undefined && v !== false) throw new UsageError(`--${flagName(key)} is a setting of --method ${other}, not ${method}`);
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

/** The training defaults (the method's learning rate) with the flags given. */
function configOf(args: RunArgs): TrainConfig {
  const c = defaultTrainConfig(PEFT_TYPES[args.method as Method]);
  return {
    ...c,
    max_steps: args.epochs !== undefined ? -1 : (args.steps ?? c.max_steps),
    num_train_epochs: args.epochs ?? c.num_train_epochs,
    gradient_accumulation_steps: args.gradAccum ?? c.gradient_accumulation_steps,
    warmup_steps: args.warmup ?? c.warmup_steps,
    eval_steps: args.evalEvery ?? c.eval_steps,
    learning_rate: args.lr ?? c.learning_rate,
    per_device_train_batch_size: args.batch ?? c.per_device_train_batch_size,
    max_length: args.seqLen ?? c.max_length,
    seed: args.seed ?? c.seed,
  };
}

/**
 * Checks the flags, the files they name, and the method and training config against the model's
 * config.json with the page's own checks (train/checks.ts); returns what the plan will be made of.
 */
export async function runRequest(args: RunArgs): Promise<RunRequest> {
  checkMethodFlags(args);
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
  const method = methodOf(args);
  const config = configOf(args);
  const problems = [...methodProblems(method, modelConfig), ...configProblems(config, modelConfig)];
  if (problems.length) throw new InputError(`these settings cannot train ${args.model}: ${problems.join('; ')}`, problems);
  return { model, modelConfig, data, valid, method, config };
}

export type RunFiles = LoadedFiles & { train: ParsedDataset };

/** The dataset files, read and checked as the page checks dropped files (before the model loads). */
export async function readRunFiles(args: RunArgs, out: Reporter): Promise<RunFiles> {
  const train = await readDataset('--data', args.data, out);
  const valid = args.valid ? await readDataset('--valid', args.valid, out) : null;
  return { ...checkReady(train, valid, args.skipBad, out), train };
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
      config: request.config,
    });
  } catch (e) {
    if (e instanceof PlanError) throw new InputError(`this run cannot start: ${e.problems.join('; ')}`, e.problems);
    throw e;
  }
}

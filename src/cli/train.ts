// `lora-playground train`: the page's training run without the page. The flags make the one method
// config and the one training config (the page's defaults for what is left out); the dataset files go
// through the page's data layer and the plan through the page's checks (train/plan.ts); the run is the
// run loop the page's worker drives (train/run.ts); the result is a PEFT adapter folder with a
// metrics.json, written whole or not at all.

import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { type ParsedDataset, prepareTraining, PrepareError } from '../lib/data';
import { datasetName, type LoadedFiles } from '../lib/data/load.ts';
import { exportAdapter } from '../lib/peft/adapter.ts';
import { buildTrainingPlan, PlanError, type TrainingPlan } from '../lib/train/plan.ts';
import { runTraining, type RunResult } from '../lib/train/run.ts';
import { checkReady, listed, readDataset } from './data.ts';
import type { Reporter } from './output.ts';
import type { MethodConfig, MethodType } from '../lib/adapters/config.ts';
import { parseModelConfig } from '../lib/model/config.ts';
import { configProblems, methodProblems } from '../lib/train/checks.ts';
import { DEFAULTS, defaultMethod, defaultTrainConfig, type TrainConfig } from '../lib/train/config.ts';
import { type Command, flagName, type Parsed, UsageError } from './args.ts';
import { existingFile, existingFolder, InputError, loadModel, type LoadedModel } from './model.ts';

const LORA = ['r', 'alpha', 'dropout', 'targets', 'rslora'] as const;
const BOTTLENECK = ['size'] as const;
const PREFIX = ['prefixTokens'] as const;
const METHODS = ['lora', 'bottleneck', 'prefix'] as const;
type Method = (typeof METHODS)[number];
const PEFT_TYPES: Record<Method, Exclude<MethodType, 'FULL'>> = { lora: 'LORA', bottleneck: 'BOTTLENECK', prefix: 'PREFIX_TUNING' };

const M = DEFAULTS.methods;
const D = DEFAULTS.training;
const flags = {
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
  out: {
    kind: 'string',
    value: 'DIR',
    required: true,
    help: 'new or empty folder for the adapter (adapter_config.json, adapter_model.safetensors) and metrics.json',
  },
} as const;

export const trainCommand: Command<typeof flags> = {
  name: 'train',
  summary: 'train a LoRA, bottleneck or prefix adapter on a dataset file, as the page does',
  description:
    'Settings left out take the page\'s defaults (src/lib/train/config.ts DEFAULTS); the names in parentheses are the\n' +
    'adapter_config.json / TrainingArguments fields they set.',
  flags,
  examples: [
    'lora-playground train --model models/brown-llama-4m --data static/samples/pirate-qa.jsonl --method lora --steps 200 --out pirate-lora/',
    'lora-playground train --model models/brown-llama-4m --data train.jsonl --method lora --r 8 --alpha 16 --targets q_proj,v_proj --out my-adapter/',
    'lora-playground train --model models/brown-llama-4m --data train.jsonl --valid valid.jsonl --method prefix --prefix-tokens 8 --out p/ --json',
  ],
};

type Args = Parsed<typeof flags>;

/** What the run loop will be given: the files, and the method and training config with the flags applied. */
export interface TrainRequest {
  /** the model folder, absolute */
  model: string;
  data: string;
  valid: string | null;
  out: string;
  method: MethodConfig;
  config: TrainConfig;
}

/** Flags of another method than --method are a mistake, not something to ignore. */
function checkMethodFlags(args: Args): void {
  const own: Record<Method, readonly string[]> = { lora: LORA, bottleneck: BOTTLENECK, prefix: PREFIX };
  const method = args.method as Method;
  for (const other of METHODS) {
    if (other === method) continue;
    for (const key of own[other]) {
      const v = args[key as keyof Args];
      if (v !== undefined && v !== false) throw new UsageError(`--${flagName(key)} is a setting of --method ${other}, not ${method}`);
    }
  }
}

/** The method's defaults with the flags given. */
function methodOf(args: Args): MethodConfig {
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
function configOf(args: Args): TrainConfig {
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
 * config.json with the page's own checks (train/checks.ts); returns what the run loop will be given.
 */
export async function trainRequest(args: Args): Promise<TrainRequest> {
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
  const out = await stat(args.out).catch(() => null);
  if (out && !out.isDirectory()) throw new InputError(`--out ${args.out}: is a file, not a folder`);
  if (out && (await readdir(args.out)).length > 0) throw new InputError(`--out ${args.out}: the folder is not empty; give a new or empty folder`);
  const method = methodOf(args);
  const config = configOf(args);
  const problems = [...methodProblems(method, modelConfig), ...configProblems(config, modelConfig)];
  if (problems.length) throw new InputError(`these settings cannot train ${args.model}: ${problems.join('; ')}`, problems);
  return { model, data, valid, out: args.out, method, config };
}

/** The dataset files, read and checked as the page checks dropped files (before the model loads). */
async function readFiles(args: Args, out: Reporter): Promise<LoadedFiles & { train: ParsedDataset }> {
  const train = await readDataset('--data', args.data, out);
  const valid = args.valid ? await readDataset('--valid', args.valid, out) : null;
  return { ...checkReady(train, valid, args.skipBad, out), train };
}

/** Renders, tokenizes and packs the files as the page does; returns the plan the run trains. */
async function planRun(
  request: TrainRequest,
  args: Args,
  files: LoadedFiles & { train: ParsedDataset },
  model: LoadedModel,
  out: Reporter,
  signal: AbortSignal,
): Promise<TrainingPlan> {
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
      model: { id: model.id, config: model.engine.config },
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

/** metrics.json: what the run did, step by step, with its settings. */
function metricsOf(plan: TrainingPlan, run: RunResult, trainableParams: number) {
  return {
    status: run.status,
    steps: run.step,
    total_steps: run.totalSteps,
    model: plan.model.id,
    method: plan.method,
    config: plan.config,
    data: {
      name: plan.data.name,
      format: plan.data.format,
      train_rows: plan.data.train.rows,
      validation_rows: plan.data.validation.rows,
      train_examples: plan.data.trainExamples,
      validation_examples: plan.data.validationExamples,
      split: plan.data.splitNote,
    },
    trainable_params: trainableParams,
    train_loss: run.history.train,
    validation_loss: run.history.validation,
    tokens: run.tokens,
    elapsed_ms: run.elapsedMs,
    tokens_per_second: run.elapsedMs > 0 ? (run.tokens * 1000) / run.elapsedMs : 0,
  };
}

/** Writes the files into a new folder beside `out`, then renames it into place: `out` is whole or absent. */
async function writeFolder(out: string, files: { name: string; data: Uint8Array | string }[]): Promise<void> {
  const target = resolve(out);
  const partial = join(dirname(target), `.${basename(target)}.partial-${process.pid}`);
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  try {
    for (const f of files) await writeFile(join(partial, f.name), f.data);
    // An empty --out (checked before training) gives way; a folder filled meanwhile makes rmdir fail.
    await rmdir(target).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await rename(partial, target);
  } catch (e) {
    await rm(partial, { recursive: true, force: true });
    throw e;
  }
}

export async function runTrain(args: Args, out: Reporter, signal: AbortSignal): Promise<void> {
  const request = await trainRequest(args);
  const files = await readFiles(args, out);
  const model = await loadModel(args.model, out);
  try {
    const plan = await planRun(request, args, files, model, out, signal);
    const run = await runTraining(model.engine, plan, { onUpdate: (u) => out.train(u), signal });
    if (run.status === 'diverged' || run.status === 'device-lost') throw new InputError(run.message);
    const method = plan.method;
    if (method.peft_type === 'FULL') throw new InputError('full fine-tuning saves a model folder, which the command line does not write yet');
    const adapter = exportAdapter(method, await model.engine.whileAlive(model.engine.exportWeights()), model.base);
    const metrics = metricsOf(plan, run, model.engine.trainableParameters);
    await writeFolder(request.out, [...adapter.files, { name: 'metrics.json', data: JSON.stringify(metrics, null, 2) + '\n' }]);
    const last = run.history.train.at(-1)?.loss;
    const val = run.history.validation.at(-1)?.loss;
    out.result(
      'train',
      { out: request.out, ...metrics },
      {
        out: [`${request.out}: adapter_config.json, adapter_model.safetensors, metrics.json`],
        note: [
          `${run.message} Loss ${last?.toFixed(4) ?? '–'}${val !== undefined ? `, validation ${val.toFixed(4)}` : ''}; ` +
            `${Math.round(metrics.tokens_per_second)} tokens/s.`,
        ],
      },
    );
  } finally {
    model.destroy();
  }
}

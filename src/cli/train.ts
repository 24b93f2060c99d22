// `lora-playground train`: its flags are read and checked now — the files, and the method and training
// config they make, against the model with the page's own checks. The training itself will be the run
// loop the page's worker runs (train/run.ts runTraining); until this command is wired to it, it stops
// with a NotWiredError (exit code 2) after checking everything it can without training.

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { MethodConfig, MethodType } from '../lib/adapters/config.ts';
import { parseModelConfig } from '../lib/model/config.ts';
import { configProblems, methodProblems } from '../lib/train/checks.ts';
import { DEFAULTS, defaultMethod, defaultTrainConfig, type TrainConfig } from '../lib/train/config.ts';
import { type Command, flagName, type Parsed, UsageError } from './args.ts';
import { existingFile, existingFolder, InputError } from './model.ts';

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
  lr: { kind: 'number', min: 0, help: `peak learning rate (learning_rate; by method: ${Object.entries(DEFAULTS.learningRate).map(([k, v]) => `${k} ${v}`).join(', ')})` },
  batch: { kind: 'int', min: 1, help: `rows per step, B (per_device_train_batch_size; ${D.per_device_train_batch_size})` },
  seqLen: { kind: 'int', min: 2, help: `positions per packed row, T (max_length; ${D.max_length})` },
  seed: { kind: 'int', min: 0, max: 2 ** 32 - 1, help: `seeds initialisation, dropout and the order of batches (seed; ${D.seed})` },
  out: { kind: 'string', value: 'DIR', required: true, help: 'folder to write the adapter into (adapter_config.json + adapter_model.safetensors)' },
} as const;

export const trainCommand: Command<typeof flags> = {
  name: 'train',
  summary: 'train an adapter (flags are checked; training is not wired to the run loop yet)',
  description:
    'Settings left out take the page\'s defaults (src/lib/train/config.ts DEFAULTS); the names in parentheses are the\n' +
    'adapter_config.json / TrainingArguments fields they set.',
  flags,
  examples: [
    'lora-playground train --model models/brown-llama-4m --data train.jsonl --method lora --r 8 --alpha 16 --steps 200 --out my-adapter/',
    'lora-playground train --model models/brown-llama-4m --data train.jsonl --valid valid.jsonl --method prefix --prefix-tokens 8 --out p/ --json',
  ],
};

/** The command exists but cannot run yet: exit code 2. */
export class NotWiredError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotWiredError';
  }
}

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
    max_steps: args.steps ?? c.max_steps,
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
  const method = methodOf(args);
  const config = configOf(args);
  const problems = [...methodProblems(method, modelConfig), ...configProblems(config, modelConfig)];
  if (problems.length) throw new InputError(`these settings cannot train ${args.model}: ${problems.join('; ')}`, problems);
  return { model, data, valid, out: args.out, method, config };
}

export async function runTrain(args: Args): Promise<void> {
  const request = await trainRequest(args);
  throw new NotWiredError(
    `train is not wired to the run loop yet: the flags are valid (--method ${args.method}, --out ${request.out}), but nothing was trained`,
  );
}

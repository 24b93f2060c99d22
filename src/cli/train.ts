// `lora-playground train`: its flags are read and checked now; the training itself waits for the run
// loop (src/lib/train/), which the page's worker and this command will share. Until then the command
// stops with a NotWiredError (exit code 2) after checking everything it can without training.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Command, flagName, type Parsed, UsageError } from './args.ts';
import { existingFile, existingFolder, InputError } from './model.ts';

const LORA = ['r', 'alpha', 'dropout', 'targets', 'rslora'] as const;
const BOTTLENECK = ['size'] as const;
const PREFIX = ['prefixTokens'] as const;
const METHODS = ['lora', 'bottleneck', 'prefix'] as const;
type Method = (typeof METHODS)[number];

const flags = {
  model: { kind: 'string', value: 'DIR', required: true, help: 'model folder in the Hugging Face layout' },
  data: { kind: 'string', value: 'FILE', required: true, help: 'training data: .jsonl, .json, .csv, .tsv or .txt, in any format the page reads' },
  valid: { kind: 'string', value: 'FILE', help: 'validation data in the same format (without it, about 10% of --data is held out)' },
  method: { kind: 'string', value: 'METHOD', required: true, choices: METHODS, help: 'where the trainable weights sit' },
  r: { kind: 'int', min: 1, help: 'LoRA rank' },
  alpha: { kind: 'number', min: 0, help: 'LoRA alpha: the update is scaled by alpha/r' },
  dropout: { kind: 'number', min: 0, max: 1, belowMax: true, help: "dropout on the LoRA branch's input while training" },
  targets: { kind: 'list', value: 'NAMES', help: 'LoRA target modules, e.g. q_proj,v_proj' },
  rslora: { kind: 'boolean', help: 'rank-stabilised LoRA: scale by alpha/√r' },
  size: { kind: 'int', min: 1, help: 'bottleneck width' },
  prefixTokens: { kind: 'int', min: 1, help: 'prefix tuning: virtual tokens per layer' },
  steps: { kind: 'int', min: 1, help: 'optimizer steps' },
  lr: { kind: 'number', min: 0, help: 'peak learning rate' },
  batch: { kind: 'int', min: 1, help: 'rows per step (B)' },
  seqLen: { kind: 'int', min: 2, help: 'positions per packed row (T)' },
  seed: { kind: 'int', min: 0, max: 2 ** 32 - 1, help: 'seeds initialisation, dropout and the order of batches' },
  out: { kind: 'string', value: 'DIR', required: true, help: 'folder to write the adapter into (adapter_config.json + adapter_model.safetensors)' },
} as const;

export const trainCommand: Command<typeof flags> = {
  name: 'train',
  summary: 'train an adapter (flags are checked; training is not wired to the run loop yet)',
  description: 'Optional settings left out take the run loop\'s defaults (the page\'s).',
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

/** What the run loop will be given: the files, the method with only the settings given, the rest. */
export interface TrainRequest {
  model: string;
  data: string;
  valid: string | null;
  out: string;
  method:
    | { kind: 'lora'; r?: number; alpha?: number; dropout?: number; targetModules?: string[]; rslora: boolean }
    | { kind: 'bottleneck'; size?: number }
    | { kind: 'prefix'; numVirtualTokens?: number };
  steps?: number;
  lr?: number;
  batchSize?: number;
  seqLen?: number;
  seed?: number;
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

/** Checks the flags and the files they name; returns what the run loop will be given. */
export async function trainRequest(args: Args): Promise<TrainRequest> {
  checkMethodFlags(args);
  const model = await existingFolder('--model', args.model);
  const config = await stat(join(model, 'config.json')).catch(() => null);
  if (!config?.isFile()) throw new InputError(`${args.model} is not a model folder: it has no config.json`);
  const data = await existingFile('--data', args.data);
  const valid = args.valid ? await existingFile('--valid', args.valid) : null;
  const out = await stat(args.out).catch(() => null);
  if (out && !out.isDirectory()) throw new InputError(`--out ${args.out}: is a file, not a folder`);
  const method: TrainRequest['method'] =
    args.method === 'lora'
      ? { kind: 'lora', r: args.r, alpha: args.alpha, dropout: args.dropout, targetModules: args.targets, rslora: args.rslora }
      : args.method === 'bottleneck'
        ? { kind: 'bottleneck', size: args.size }
        : { kind: 'prefix', numVirtualTokens: args.prefixTokens };
  return { model, data, valid, out: args.out, method, steps: args.steps, lr: args.lr, batchSize: args.batch, seqLen: args.seqLen, seed: args.seed };
}

export async function runTrain(args: Args): Promise<void> {
  const request = await trainRequest(args);
  throw new NotWiredError(
    `train is not wired to the run loop yet: the flags are valid (--method ${request.method.kind}, --out ${request.out}), but nothing was trained`,
  );
}

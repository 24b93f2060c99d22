// `lora-playground pretrain`: a new Llama-style model from scratch, as the page's "New model" panel
// makes one. The architecture (a preset or custom sizes) and its Hugging Face initialisation come from
// pretrain/create.ts; the tokenizer is the shipped model's. The fresh folder is written to a temporary
// folder and trained by `train --method full` — the same flags, data layer, run loop and model-folder
// output — with a sample generation every --sample-every steps.

import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOKENIZER_FILE_NAMES } from '../lib/pretrain/folder.ts';
import { architectureProblems, DEFAULT_INITIALIZER_RANGE, newModelFiles, parameterCount, PRESET_NAMES, PRESETS, type ArchitectureSpec, type PresetName } from '../lib/pretrain/create.ts';
import { DEFAULTS } from '../lib/train/config.ts';
import { flagName, parseFlags, type Command, type Parsed, UsageError } from './args.ts';
import type { Reporter } from './output.ts';
import { RUN_FLAGS } from './plan.ts';
import { runTrain, trainCommand } from './train.ts';

/** The shipped model, whose tokenizer every new model uses. */
const SHIPPED = fileURLToPath(new URL('../../models/brown-llama-4m/', import.meta.url));
const P = DEFAULTS.pretraining;

/** Flags of `train` that mean the same here (the method is full fine-tuning, the model is the new one). */
const SHARED = ['data', 'valid', 'steps', 'epochs', 'lr', 'batch', 'gradAccum', 'warmup', 'evalEvery', 'seqLen', 'seed', 'skipBad', 'general', 'memoryBudget'] as const;

const flags = {
  preset: { kind: 'string', value: 'NAME', choices: PRESET_NAMES, help: `architecture preset by parameter count (${PRESET_NAMES.map((n) => `${n}: ${parameterCount(PRESETS[n]).toLocaleString('en')}`).join(', ')}); 1m when no size is given` },
  layers: { kind: 'int', min: 1, help: 'custom: transformer blocks (num_hidden_layers)' },
  width: { kind: 'int', min: 1, help: 'custom: hidden size (hidden_size)' },
  heads: { kind: 'int', min: 1, help: 'custom: attention heads (num_attention_heads)' },
  kvHeads: { kind: 'int', min: 1, help: 'custom: key/value heads, fewer for grouped-query attention (num_key_value_heads)' },
  mlpWidth: { kind: 'int', min: 1, help: 'custom: SwiGLU width (intermediate_size; about 2.7 × width when left out)' },
  context: { kind: 'int', min: 8, help: 'custom: longest row the model is built for (max_position_embeddings)' },
  initRange: { kind: 'number', min: 0, help: `standard deviation of the normal initialisation (initializer_range; ${DEFAULT_INITIALIZER_RANGE})` },
  sampleEvery: { kind: 'int', min: 1, help: `generate a greedy sample every N steps (${P.sample_every})` },
  samplePrompt: { kind: 'string', value: 'TEXT', help: 'the samples\' prompt ("The")' },
  data: RUN_FLAGS.data,
  valid: RUN_FLAGS.valid,
  steps: RUN_FLAGS.steps,
  epochs: RUN_FLAGS.epochs,
  lr: RUN_FLAGS.lr,
  batch: RUN_FLAGS.batch,
  gradAccum: RUN_FLAGS.gradAccum,
  warmup: RUN_FLAGS.warmup,
  evalEvery: RUN_FLAGS.evalEvery,
  seqLen: RUN_FLAGS.seqLen,
  seed: RUN_FLAGS.seed,
  skipBad: RUN_FLAGS.skipBad,
  general: RUN_FLAGS.general,
  memoryBudget: RUN_FLAGS.memoryBudget,
  out: { kind: 'string', value: 'DIR', required: true, help: 'new or empty folder for the model (config.json, model.safetensors, generation_config.json, tokenizer files) and metrics.json' },
} as const;

export const pretrainCommand: Command<typeof flags> = {
  name: 'pretrain',
  summary: 'pretrain a new Llama-style model from scratch on plain text (the shipped tokenizer), as the page\'s New model panel does',
  description:
    'The model is initialised as Hugging Face does (normal(0, initializer_range) for the embedding and every projection,\n' +
    'RMSNorm weights 1; --seed seeds it and the batches) and trained with full fine-tuning by the same run loop as train\n' +
    `(cosine schedule with warm-up). Defaults differ from train's: learning rate ${P.learning_rate}, warm-up ${P.warmup_steps}, ` +
    `${P.max_steps} steps, batch ${P.per_device_train_batch_size} × ${P.max_length}, validation every ${P.eval_steps}.`,
  flags,
  examples: [
    'lora-playground pretrain --preset 1m --data static/corpus/brown-heldout.txt --steps 500 --out my-model/',
    'lora-playground pretrain --layers 2 --width 64 --heads 4 --kv-heads 2 --context 128 --data book.txt --out tiny/ --json',
  ],
};

type Args = Parsed<typeof flags>;

/** The architecture the flags ask for: a preset, or custom sizes (each one left out taken from the 1m preset). */
export function architectureOf(args: Args): ArchitectureSpec {
  const custom = (['layers', 'width', 'heads', 'kvHeads', 'mlpWidth', 'context'] as const).filter((k) => args[k] !== undefined);
  if (args.preset !== undefined && custom.length) throw new UsageError(`--preset ${args.preset} fixes the sizes; leave --${flagName(custom[0])} out or drop --preset`);
  if (args.preset !== undefined || !custom.length) return { ...PRESETS[(args.preset ?? '1m') as PresetName] };
  const base = PRESETS['1m'];
  const width = args.width ?? base.hidden;
  const heads = args.heads ?? base.heads;
  const a: ArchitectureSpec = {
    layers: args.layers ?? base.layers,
    hidden: width,
    heads,
    kvHeads: args.kvHeads ?? Math.min(heads, base.kvHeads),
    intermediate: args.mlpWidth ?? 8 * Math.ceil((width * 8) / 3 / 8),
    context: args.context ?? base.context,
  };
  const problems = architectureProblems(a);
  if (problems.length) throw new UsageError(`this architecture cannot be built: ${problems.join('; ')}`);
  return a;
}

/** `train`'s command line for the same run: --method full on the fresh folder, pretraining's defaults. */
function trainArgv(args: Args, model: string, architecture: ArchitectureSpec): string[] {
  const argv = ['--model', model, '--method', 'full', '--out', args.out];
  const given = args as unknown as Record<string, unknown>;
  for (const k of SHARED) {
    const v = given[k];
    if (v === undefined || v === false) continue;
    argv.push(`--${flagName(k)}`, ...(v === true ? [] : [String(v)]));
  }
  const def = (k: string, v: number) => given[k] === undefined && argv.push(`--${flagName(k)}`, String(v));
  if (given.epochs === undefined) def('steps', P.max_steps);
  def('lr', P.learning_rate);
  def('warmup', P.warmup_steps);
  def('batch', P.per_device_train_batch_size);
  def('seqLen', Math.min(P.max_length, architecture.context));
  def('evalEvery', P.eval_steps);
  return argv;
}

export async function runPretrain(args: Args, out: Reporter, signal: AbortSignal): Promise<void> {
  const architecture = architectureOf(args);
  const seed = args.seed ?? DEFAULTS.training.seed;
  const initializerRange = args.initRange ?? DEFAULT_INITIALIZER_RANGE;
  const train = parseFlags(trainCommand, trainArgv(args, '-', architecture)); // flag mistakes before any file is written
  const dir = await mkdtemp(join(tmpdir(), 'lora-playground-new-model-'));
  try {
    out.status('model', `A new model of ${parameterCount(architecture).toLocaleString('en')} parameters (seed ${seed}, initializer_range ${initializerRange})…`);
    const files = newModelFiles({ architecture, seed, initializerRange });
    await writeFile(join(dir, 'config.json'), JSON.stringify(files.config, null, 2) + '\n');
    await writeFile(join(dir, 'generation_config.json'), JSON.stringify(files.generationConfig, null, 2) + '\n');
    await writeFile(join(dir, 'model.safetensors'), files.weights[0] as Uint8Array);
    for (const name of TOKENIZER_FILE_NAMES) await copyFile(join(SHIPPED, name), join(dir, name));
    await runTrain({ ...train, model: dir }, out, signal, {
      command: 'pretrain',
      sample: { every: args.sampleEvery ?? P.sample_every, prompt: args.samplePrompt ?? 'The', maxNewTokens: 32 },
      metrics: { architecture: { ...architecture, parameters: parameterCount(architecture), seed, initializer_range: initializerRange } },
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

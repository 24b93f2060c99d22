// `lora-playground pretrain`: a new Llama-style model from scratch, as the page's "New model" panel
// makes one. The architecture (a preset or custom sizes) and its Hugging Face initialisation come from
// pretrain/create.ts; the tokenizer is the shipped model's, or (--tokenizer bpe) a byte-level BPE of
// --vocab-size tokens trained on the training part of --data first (pretrain/bpe.ts), whose size the
// model's embedding takes. The fresh folder is written to a temporary folder and trained by
// `train --method full` — the same flags, data layer, run loop and model-folder output (the tokenizer
// files travel with it) — with a sample generation every --sample-every steps.

import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { splitExamples } from '../lib/data/split.ts';
import { bpeTokenizerFiles, bpeTokenizerSpec } from '../lib/pretrain/bpe-files.ts';
import { MAX_VOCAB_SIZE, MIN_VOCAB_SIZE, trainBpe } from '../lib/pretrain/bpe.ts';
import { TOKENIZER_FILE_NAMES, type FolderFile } from '../lib/pretrain/folder.ts';
import { architectureProblems, DEFAULT_INITIALIZER_RANGE, newModelFiles, parameterCount, PRESET_NAMES, PRESETS, SHIPPED_TOKENIZER, type ArchitectureSpec, type PresetName, type TokenizerSpec } from '../lib/pretrain/create.ts';
import { pretrainTexts } from '../lib/pretrain/data.ts';
import { readDataset } from './data.ts';
import { InputError } from './model.ts';
import { DEFAULTS } from '../lib/train/config.ts';
import { flagName, parseFlags, type Command, type Parsed, UsageError } from './args.ts';
import type { Reporter } from './output.ts';
import { RUN_FLAGS } from './plan.ts';
import { runTrain, trainCommand } from './train.ts';

/** The shipped model, whose tokenizer every new model uses. */
const SHIPPED = fileURLToPath(new URL('../../models/brown-llama-4m/', import.meta.url));
const P = DEFAULTS.pretraining;
/** The trained tokenizer's size when --vocab-size is left out: the shipped one's. */
const DEFAULT_BPE_VOCAB = SHIPPED_TOKENIZER.vocabSize;

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
  tokenizer: { kind: 'string', value: 'KIND', choices: ['shipped', 'bpe'], help: 'shipped: brown-llama-4m\'s 4,096-token byte-level BPE (default); bpe: train a byte-level BPE on the training text first' },
  vocabSize: { kind: 'int', min: MIN_VOCAB_SIZE, max: MAX_VOCAB_SIZE, help: `with --tokenizer bpe: tokens wanted, 3 special tokens and 256 bytes included (${DEFAULT_BPE_VOCAB.toLocaleString('en')}); fewer when the text runs out of pairs` },
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
  summary: 'pretrain a new Llama-style model from scratch on plain text (the shipped tokenizer or a BPE trained on the text), as the page\'s New model panel does',
  description:
    'The model is initialised as Hugging Face does (normal(0, initializer_range) for the embedding and every projection,\n' +
    'RMSNorm weights 1; --seed seeds it and the batches) and trained with full fine-tuning by the same run loop as train\n' +
    `(cosine schedule with warm-up). Defaults differ from train's: learning rate ${P.learning_rate}, warm-up ${P.warmup_steps}, ` +
    `${P.max_steps} steps, batch ${P.per_device_train_batch_size} × ${P.max_length}, validation every ${P.eval_steps}.`,
  flags,
  examples: [
    'lora-playground pretrain --preset 1m --data static/corpus/brown-heldout.txt --steps 500 --out my-model/',
    'lora-playground pretrain --layers 2 --width 64 --heads 4 --kv-heads 2 --context 128 --data book.txt --out tiny/ --json',
    'lora-playground pretrain --preset 0.5m --tokenizer bpe --vocab-size 2048 --data book.txt --out book-model/',
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

/**
 * The texts a tokenizer is trained on: --data's records, less the ones train holds out for validation
 * when no --valid is given (prepareTraining's automatic split: the same call, seed 0), so the
 * validation loss is measured on text the tokenizer never saw.
 */
async function tokenizerTexts(args: Args, out: Reporter): Promise<string[]> {
  const parsed = await readDataset('--data', args.data, out);
  const kept = args.valid ? parsed : { ...parsed, examples: splitExamples(parsed.examples, { seed: 0 }).train };
  const { texts, problems } = pretrainTexts([kept]);
  if (problems.length) throw new InputError(`--tokenizer bpe trains on plain text: ${problems.join('; ')}`, problems);
  return texts;
}

/** The trained tokenizer's files and its size (--tokenizer bpe), with progress events as merges are learned. */
async function trainTokenizer(args: Args, architecture: ArchitectureSpec, out: Reporter, signal: AbortSignal): Promise<{ files: FolderFile[]; spec: TokenizerSpec; trained: Record<string, unknown> }> {
  const vocabSize = args.vocabSize ?? DEFAULT_BPE_VOCAB;
  const texts = await tokenizerTexts(args, out);
  out.status('tokenizer', `Training a byte-level BPE tokenizer of ${vocabSize.toLocaleString('en')} tokens on ${texts.length.toLocaleString('en')} texts…`);
  const merges = vocabSize - MIN_VOCAB_SIZE;
  const { tokenizer, shortBy } = await trainBpe(texts, { vocabSize, signal, onProgress: (f) => out.progress('tokenizer', Math.round(f * merges), merges, 'merges') });
  if (shortBy) out.warning(`--vocab-size ${vocabSize}: ${shortBy}`);
  const spec = bpeTokenizerSpec(tokenizer);
  return {
    files: bpeTokenizerFiles(tokenizer, { name: basename(args.out), modelMaxLength: architecture.context }),
    spec,
    trained: { type: 'byte-level BPE', vocab_size: spec.vocabSize, requested_vocab_size: vocabSize, merges: tokenizer.merges.length },
  };
}

export async function runPretrain(args: Args, out: Reporter, signal: AbortSignal): Promise<void> {
  const architecture = architectureOf(args);
  const seed = args.seed ?? DEFAULTS.training.seed;
  const initializerRange = args.initRange ?? DEFAULT_INITIALIZER_RANGE;
  if (args.vocabSize !== undefined && args.tokenizer !== 'bpe') throw new UsageError('--vocab-size sizes a trained tokenizer: add --tokenizer bpe (the shipped tokenizer has 4,096 tokens)');
  const train = parseFlags(trainCommand, trainArgv(args, '-', architecture)); // flag mistakes before any file is written
  const dir = await mkdtemp(join(tmpdir(), 'lora-playground-new-model-'));
  try {
    const bpe = args.tokenizer === 'bpe' ? await trainTokenizer(args, architecture, out, signal) : null;
    const tokenizer = bpe?.spec ?? SHIPPED_TOKENIZER;
    const parameters = parameterCount(architecture, tokenizer.vocabSize);
    out.status('model', `A new model of ${parameters.toLocaleString('en')} parameters (seed ${seed}, initializer_range ${initializerRange})…`);
    const files = newModelFiles({ architecture, seed, initializerRange, tokenizer });
    await writeFile(join(dir, 'config.json'), JSON.stringify(files.config, null, 2) + '\n');
    await writeFile(join(dir, 'generation_config.json'), JSON.stringify(files.generationConfig, null, 2) + '\n');
    await writeFile(join(dir, 'model.safetensors'), files.weights[0] as Uint8Array);
    if (bpe) for (const f of bpe.files) await writeFile(join(dir, f.name), f.data);
    else for (const name of TOKENIZER_FILE_NAMES) await copyFile(join(SHIPPED, name), join(dir, name));
    await runTrain({ ...train, model: dir }, out, signal, {
      command: 'pretrain',
      sample: { every: args.sampleEvery ?? P.sample_every, prompt: args.samplePrompt ?? 'The', maxNewTokens: 32 },
      metrics: {
        architecture: { ...architecture, parameters, seed, initializer_range: initializerRange },
        tokenizer: bpe?.trained ?? { type: 'shipped', vocab_size: tokenizer.vocabSize },
      },
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

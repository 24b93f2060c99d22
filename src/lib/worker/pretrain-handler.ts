/// <reference lib="webworker" />
// The New model panel's request: a fresh Llama (pretrain/create.ts) on its own engine, trained with
// full fine-tuning by the one run loop (train/run.ts), a greedy sample every N steps, then kept in
// IndexedDB as a Hugging Face folder (config.json, generation_config.json, model.safetensors, the
// tokenizer's files). The tokenizer is the shipped one — rows packed by the page, samples decoded by
// the base runtime, which must then be the shipped model — or a byte-level BPE trained here first on
// the training paragraphs (pretrain/bpe.ts, with progress), which packs the text and decodes samples.

import { DEFAULT_MODEL_ID } from '../base/catalog.ts';
import { Engine } from '../engine.ts';
import type { PackedRows } from '../data/pack.ts';
import { bpeTokenizerFiles, bpeTokenizerSpec } from '../pretrain/bpe-files.ts';
import { MIN_VOCAB_SIZE, trainBpe } from '../pretrain/bpe.ts';
import { newModelFiles, parameterCount, SHIPPED_TOKENIZER, type TokenizerSpec } from '../pretrain/create.ts';
import { bpeTextTokenizer, pretrainRows, pretrainSplit } from '../pretrain/data.ts';
import { modelFolderFiles, TOKENIZER_FILE_NAMES, type FolderFile } from '../pretrain/folder.ts';
import { saveModel } from '../store/models.ts';
import { runTraining } from '../train/run.ts';
import type { Handler } from './handler.ts';
import type { EmittedEvent, PretrainRequest } from './protocol.ts';
import { baseRuntime } from './session.ts';

/** The shipped tokenizer's files, as the app serves them. */
async function tokenizerFiles(localModels: string, signal: AbortSignal): Promise<FolderFile[]> {
  const folder = new URL(`${DEFAULT_MODEL_ID}/`, localModels);
  const out: FolderFile[] = [];
  for (const name of TOKENIZER_FILE_NAMES) {
    const r = await fetch(new URL(name, folder), { signal });
    if (r.ok) out.push({ name, data: await r.text() });
    else if (name === 'tokenizer.json') throw new Error(`the shipped tokenizer (${name}) could not be read: HTTP ${r.status}`);
  }
  return out;
}

/** The run's tokenizer: its files for the folder, its size and special ids, the packed rows, and how samples are encoded and decoded. */
interface RunTokenizer {
  files: FolderFile[];
  spec: TokenizerSpec;
  data: { train: PackedRows; validation: PackedRows; padId: number };
  encode(text: string): number[];
  decode(ids: number[]): string;
}

async function shippedTokenizer(request: PretrainRequest & { data: { tokenizer: 'shipped' } }, signal: AbortSignal): Promise<RunTokenizer> {
  const runtime = baseRuntime();
  if (runtime.info.id !== DEFAULT_MODEL_ID) throw new Error(`a new model uses the shipped tokenizer: load ${DEFAULT_MODEL_ID} first (${runtime.info.id} is loaded)`);
  const { train, validation, padId } = request.data;
  return {
    files: await tokenizerFiles(request.localModels, signal),
    spec: SHIPPED_TOKENIZER,
    data: { train, validation, padId },
    encode: (text) => runtime.renderPrompt(text, false).ids,
    decode: (ids) => runtime.decode(ids),
  };
}

/** Trains the BPE on the training paragraphs (the validation ones stay unseen), then packs the text with it. */
async function trainedTokenizer(request: PretrainRequest & { data: { tokenizer: 'bpe' } }, emit: (e: EmittedEvent) => void, signal: AbortSignal): Promise<RunTokenizer> {
  const { vocabSize, texts } = request.data;
  const seed = request.config.seed;
  const paragraphs = pretrainSplit(texts, seed).train;
  emit({ type: 'status', stage: 'tokenizer', message: `Training a byte-level BPE tokenizer of ${vocabSize.toLocaleString('en')} tokens on ${paragraphs.length.toLocaleString('en')} paragraphs…` });
  const merges = vocabSize - MIN_VOCAB_SIZE;
  const { tokenizer, shortBy } = await trainBpe(paragraphs, {
    vocabSize,
    signal,
    onProgress: (f) => emit({ type: 'progress', file: 'tokenizer', loaded: Math.round(f * merges), total: merges, unit: 'merges' }),
  });
  if (shortBy) emit({ type: 'status', stage: 'tokenizer', message: `The tokenizer is smaller than asked: ${shortBy}.` });
  const text = bpeTextTokenizer(tokenizer);
  const rows = pretrainRows(texts, text, request.config.max_length, seed);
  emit({ type: 'status', stage: 'data', message: `${rows.train.rows.toLocaleString('en')} train rows and ${rows.validation.rows} validation rows of ${request.config.max_length} tokens; ${rows.note}` });
  return {
    files: bpeTokenizerFiles(tokenizer, { name: request.name, modelMaxLength: request.architecture.context }),
    spec: bpeTokenizerSpec(tokenizer),
    data: { train: rows.train, validation: rows.validation, padId: text.padId },
    encode: text.encode,
    decode: text.decode,
  };
}

export const pretrain: Handler<'pretrain'> = async (request, { emit, signal }) => {
  const { architecture, seed, initializerRange, config, steps } = request;
  const tok = request.data.tokenizer === 'bpe' ? await trainedTokenizer({ ...request, data: request.data }, emit, signal) : await shippedTokenizer({ ...request, data: request.data }, signal);
  const parameters = parameterCount(architecture, tok.spec.vocabSize);
  emit({ type: 'status', stage: 'model', message: `A new model of ${parameters.toLocaleString('en')} parameters (seed ${seed}, initializer_range ${initializerRange})…` });
  const files = newModelFiles({ architecture, seed, initializerRange, tokenizer: tok.spec });
  const engine = await Engine.load(files);
  try {
    const prompt = tok.encode(request.sample.prompt);
    const run = await runTraining(
      engine,
      { method: { peft_type: 'FULL' }, config, data: tok.data, steps },
      {
        onUpdate: (update) => emit({ type: 'train', update }),
        signal,
        sample: {
          every: request.sample.every,
          generate: async (e) => {
            const ids: number[] = [];
            const opts = { maxNewTokens: request.sample.maxNewTokens, sampling: { temperature: 0, topK: 0, topP: 1, seed: 0 }, stopTokens: tok.spec.eosTokenIds };
            for await (const id of e.generate(prompt, opts)) ids.push(id);
            return request.sample.prompt + tok.decode(ids);
          },
        },
      },
    );
    if (run.status === 'device-lost' || run.step === 0) return { status: run.status, step: run.step, message: run.message, modelId: null };
    const folder = modelFolderFiles(await engine.whileAlive(engine.exportWeights()), {
      config: files.config,
      generationConfig: files.generationConfig,
      tokenizer: tok.files,
      metadata: { made_by: 'LoRA Playground: New model', seed: String(seed), steps: String(run.step) },
    });
    const record = await saveModel({
      name: request.name,
      architecture,
      parameters,
      seed,
      initializerRange,
      dataset: request.dataset,
      steps: run.step,
      trainLoss: run.history.train.at(-1)?.loss ?? null,
      valLoss: run.history.validation.at(-1)?.loss ?? null,
      files: folder,
    });
    return { status: run.status, step: run.step, message: run.message, modelId: record.id };
  } finally {
    engine.destroy();
  }
};

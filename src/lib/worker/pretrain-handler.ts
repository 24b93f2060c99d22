/// <reference lib="webworker" />
// The New model panel's request: a fresh Llama (pretrain/create.ts) on its own engine, trained with
// full fine-tuning by the one run loop (train/run.ts) on rows the page packed with the shipped
// tokenizer, a greedy sample every N steps (decoded by the base runtime, which must be the shipped
// model: the new model shares its tokenizer), then kept in IndexedDB as a Hugging Face folder
// (config.json, generation_config.json, model.safetensors, the shipped tokenizer's files).

import { DEFAULT_MODEL_ID } from '../base/catalog.ts';
import { Engine } from '../engine.ts';
import { newModelFiles, parameterCount, SHIPPED_TOKENIZER } from '../pretrain/create.ts';
import { modelFolderFiles, TOKENIZER_FILE_NAMES, type FolderFile } from '../pretrain/folder.ts';
import { saveModel } from '../store/models.ts';
import { runTraining } from '../train/run.ts';
import type { Handler } from './handler.ts';
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

export const pretrain: Handler<'pretrain'> = async (request, { emit, signal }) => {
  const runtime = baseRuntime();
  if (runtime.info.id !== DEFAULT_MODEL_ID) throw new Error(`a new model uses the shipped tokenizer: load ${DEFAULT_MODEL_ID} first (${runtime.info.id} is loaded)`);
  const { architecture, seed, initializerRange, config, steps, data } = request;
  const tokenizer = await tokenizerFiles(request.localModels, signal);
  emit({ type: 'status', stage: 'model', message: `A new model of ${parameterCount(architecture).toLocaleString('en')} parameters (seed ${seed}, initializer_range ${initializerRange})…` });
  const files = newModelFiles({ architecture, seed, initializerRange, tokenizer: SHIPPED_TOKENIZER });
  const engine = await Engine.load(files);
  try {
    const prompt = runtime.renderPrompt(request.sample.prompt, false).ids;
    const run = await runTraining(
      engine,
      { method: { peft_type: 'FULL' }, config, data, steps },
      {
        onUpdate: (update) => emit({ type: 'train', update }),
        signal,
        sample: {
          every: request.sample.every,
          generate: async (e) => {
            const ids: number[] = [];
            const opts = { maxNewTokens: request.sample.maxNewTokens, sampling: { temperature: 0, topK: 0, topP: 1, seed: 0 }, stopTokens: SHIPPED_TOKENIZER.eosTokenIds };
            for await (const id of e.generate(prompt, opts)) ids.push(id);
            return request.sample.prompt + runtime.decode(ids);
          },
        },
      },
    );
    if (run.status === 'device-lost' || run.step === 0) return { status: run.status, step: run.step, message: run.message, modelId: null };
    const folder = modelFolderFiles(await engine.whileAlive(engine.exportWeights()), {
      config: files.config,
      generationConfig: files.generationConfig,
      tokenizer,
      metadata: { made_by: 'LoRA Playground: New model', seed: String(seed), steps: String(run.step) },
    });
    const record = await saveModel({
      name: request.name,
      architecture,
      parameters: parameterCount(architecture),
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

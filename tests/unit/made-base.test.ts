// A model made in this browser as the page's base model: transformers.js reads its tokenizer and
// config.json from IndexedDB through env.fetch (browser-models.ts, model-source.ts), the base runtime
// loads it without ONNX, the picker lists it by name and loads it, the loaded one cannot be deleted,
// and the compare pickers offer the engine's base first and onnxruntime-web's only with its dtype.

import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { env } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { BROWSER_MODELS_PATH, storedModelFetch, storedModelReader } from '../../src/lib/base/browser-models.ts';
import { browserModel, specFor } from '../../src/lib/base/catalog.ts';
import { configureModelSource, loadModelTokenizer } from '../../src/lib/base/model-source.ts';
import { BaseRuntime } from '../../src/lib/base/runtime.ts';
import { readModelFiles } from '../../src/lib/model/files.ts';
import type { FolderFile } from '../../src/lib/pretrain/folder.ts';
import { deleteModel, saveModel, type ModelRecord } from '../../src/lib/store/models.ts';
import type { EngineClient } from '../../src/lib/worker/client.ts';
import type { LoadResult, WorkerEvent } from '../../src/lib/worker/protocol.ts';
import { BaseModelState, madeChoice } from '../../src/ui/base.svelte.ts';
import { ENGINE_BASE, ONNX_BASE, sideOptions } from '../../src/ui/compare/sides.ts';
import type { ModelStore } from '../../src/ui/newmodel/made-models.svelte.ts';
import { parsePageOptions } from '../../src/ui/url-options.ts';

const MODELS = join(import.meta.dirname, '../../models');
const SHIPPED = join(MODELS, 'brown-llama-4m');

/** The shipped model's folder without its ONNX graph: what a made model looks like (same tokenizer). */
const FOLDER: FolderFile[] = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'].map(
  (name) => ({ name, data: readFileSync(join(SHIPPED, name), 'utf8') }),
);
const WEIGHTS: FolderFile = { name: 'model.safetensors', data: Uint8Array.from([1, 2, 3, 4]) };

const record = (over: Partial<Omit<ModelRecord, 'id' | 'createdAt'>> = {}) =>
  saveModel({
    name: 'Tiny 0.1m',
    architecture: {} as ModelRecord['architecture'],
    parameters: 104_000,
    seed: 0,
    initializerRange: 0.02,
    dataset: 'Brown slice',
    steps: 4,
    trainLoss: 6,
    valLoss: 6.1,
    files: [...FOLDER, WEIGHTS],
    ...over,
  });

describe('storedModelFetch', () => {
  const stored = async (id: string) => (id === 'm1' ? [...FOLDER, WEIGHTS] : null);
  const passed: string[] = [];
  const fallback = (async (input: string | URL | Request) => {
    passed.push(String(input));
    return new Response('from the network');
  }) as typeof fetch;
  const f = storedModelFetch(stored, fallback);

  it('answers a stored file under the virtual path with its bytes, and a missing model or file with 404 naming it', async () => {
    const config = await f(`${BROWSER_MODELS_PATH}m1/config.json`);
    expect(config.status).toBe(200);
    expect(await config.text()).toBe(FOLDER[0].data);
    const weights = await f(`${BROWSER_MODELS_PATH}m1/model.safetensors`);
    expect([...new Uint8Array(await weights.arrayBuffer())]).toEqual([1, 2, 3, 4]);

    const noFile = await f(`${BROWSER_MODELS_PATH}m1/onnx/model.onnx`);
    expect(noFile.status).toBe(404);
    expect(await noFile.text()).toBe('the model made in this browser has no onnx/model.onnx');
    const noModel = await f(`${BROWSER_MODELS_PATH}gone/config.json`);
    expect(noModel.status).toBe(404);
    expect(await noModel.text()).toBe('no model made in this browser has the id gone (deleted?)');
    expect(passed).toEqual([]);
  });

  it('passes every other request to the real fetch, a URL on another host that contains the path included', async () => {
    await f('/models/brown-llama-4m/config.json');
    await f(`https://example.org${BROWSER_MODELS_PATH}m1/config.json`);
    expect(passed).toEqual(['/models/brown-llama-4m/config.json', `https://example.org${BROWSER_MODELS_PATH}m1/config.json`]);
  });

  it('the engine reads the same folder through storedModelReader (config, then the weights)', async () => {
    const files = await readModelFiles(storedModelReader([...FOLDER, WEIGHTS]), 'a made model');
    expect([...new Uint8Array(files.weights[0])]).toEqual([1, 2, 3, 4]);
    await expect(readModelFiles(storedModelReader(FOLDER), 'a made model')).rejects.toThrow('a made model has no model.safetensors');
  });
});

describe('a made model through transformers.js', () => {
  it('loads its tokenizer and config from IndexedDB, tokenizing as the shipped model; the other sources get their fetch back', async () => {
    const { id } = await record();
    const made = await loadModelTokenizer({ id, source: 'browser' }, { localModels: MODELS });
    const shipped = await loadModelTokenizer({ id: 'brown-llama-4m', source: 'shipped' }, { localModels: MODELS });
    expect(made.config).toEqual(shipped.config);
    expect(made.tokenizer.encode('The history of the city')).toEqual(shipped.tokenizer.encode('The history of the city'));
    expect(env.useFS).toBe(true); // Node reads shipped models from files again
    await configureModelSource('browser', { localModels: MODELS });
    expect(env.localModelPath).toBe(BROWSER_MODELS_PATH);
    expect(env.allowRemoteModels).toBe(false);
    await deleteModel(id);
  });

  it('the base runtime loads it without ONNX: no dtype, and generate/logits refuse saying the engine serves it', async () => {
    const { id } = await record();
    const runtime = await BaseRuntime.load({ model: browserModel(id), backend: 'cpu', localModels: MODELS });
    expect(runtime.hasOnnx).toBe(false);
    expect(runtime.info).toMatchObject({ id, source: 'browser', dtype: null, eosTokenIds: [expect.any(Number)] });
    expect(runtime.renderPrompt('The history', false).ids.length).toBeGreaterThan(0);
    const refusal = `${id} has no ONNX graph: onnxruntime cannot run it (the engine serves its base)`;
    await expect(runtime.generate('The history', { chat: false, temperature: 0, topK: 0, topP: 1, seed: 0, maxNewTokens: 4 })).rejects.toThrow(refusal);
    await expect(runtime.logits([1, 2])).rejects.toThrow(refusal);
    await runtime.dispose();
    await deleteModel(id);
  });
});

function fakeClient() {
  const requests: { kind: string; payload: unknown; resolve: (v: unknown) => void }[] = [];
  const client = {
    request(kind: string, payload: unknown, _onEvent?: (e: WorkerEvent) => void) {
      let resolve!: (v: unknown) => void;
      const result = new Promise<unknown>((ok) => (resolve = ok));
      requests.push({ kind, payload, resolve });
      return { id: requests.length, result, cancel: () => {} };
    },
  } as unknown as EngineClient;
  return { client, requests };
}

describe('the model picker with models made in this browser', () => {
  const made = { id: 'm1', name: 'Tiny 0.1m', files: [] } as unknown as ModelRecord;
  const store = (): ModelStore & { removed: string[] } => {
    const removed: string[] = [];
    return { removed, list: async () => [made], remove: async (id) => (removed.push(id), true) };
  };

  it('lists them by name, loads one as a browser model, and refuses to delete it while it is the base model', async () => {
    const { client, requests } = fakeClient();
    const kept = store();
    const base = new BaseModelState(client, parsePageOptions(''), kept);
    await base.made.refresh();
    (globalThis as { document?: unknown }).document = { baseURI: 'http://localhost/app/' };
    try {
      const loading = base.useMade('m1');
      expect(base.choice).toBe(madeChoice('m1'));
      expect(requests.map((r) => [r.kind, (r.payload as { model: unknown }).model])).toEqual([['load', browserModel('m1')]]);
      const loaded: LoadResult = { id: 'm1', source: 'browser', backend: 'wasm', dtype: null, hasChatTemplate: false, eosTokenIds: [2], vocabSize: 4096, loadMs: 1 };
      requests[0].resolve(loaded);
      await loading;
      expect(base.nameOf(base.model!.id)).toBe('Tiny 0.1m');
      expect(specFor(base.model!)).toEqual(browserModel('m1'));

      await base.made.remove('m1');
      expect(kept.removed).toEqual([]);
      expect(base.made.error).toBe('Tiny 0.1m is the loaded base model: load another model before deleting it');
    } finally {
      delete (globalThis as { document?: unknown }).document;
    }
  });

  it('a made model that is no longer kept is not loaded: the picker says so', async () => {
    const { client, requests } = fakeClient();
    const base = new BaseModelState(client, parsePageOptions(''), { list: async () => [], remove: async () => false });
    await base.made.refresh();
    base.choice = madeChoice('gone');
    await base.load();
    expect(requests).toEqual([]);
    expect(base.error).toBe('That model is no longer kept in this browser: pick another.');
  });
});

describe('compare sides', () => {
  it('the engine base first; onnxruntime-web’s base named with its dtype, absent with no ONNX; then the adapters', () => {
    const adapters = [{ id: 'a1', name: 'pirate' }];
    expect(sideOptions('q4', adapters)).toEqual([
      { value: ENGINE_BASE, label: 'Base model (WebGPU engine, no adapter)' },
      { value: ONNX_BASE, label: 'Base model (onnxruntime-web, q4)' },
      { value: 'adapter:a1', label: 'pirate (adapter)' },
    ]);
    expect(sideOptions(null, adapters).map((o) => o.value)).toEqual([ENGINE_BASE, 'adapter:a1']);
  });
});

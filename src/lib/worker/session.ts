/// <reference lib="webworker" />
// What the worker holds: the one base runtime (transformers.js on onnxruntime-web — the tokenizer,
// the chat template, base generation and the reference logits; for a model with no ONNX graph only
// the tokenizer and chat template, and the engine generates its base) and the engine on the same model,
// with one adapter at a time attached to it. Both are replaced when the page loads another model; a
// lost GPU device gets a fresh engine (same model) on the next request.

import { chooseBackend, probeWebGPU } from '../base/backend.ts';
import { useOwnOrtWasm } from '../base/ort-assets.ts';
import type { RenderedPrompt } from '../base/model-source.ts';
import { BaseRuntime } from '../base/runtime.ts';
import { DeviceLost, Engine } from '../engine.ts';
import { describeAdapter, GpuError } from '../gpu/index.ts';
import { storedModelReader } from '../base/browser-models.ts';
import { fetchReader, openFilesCache, readModelFiles, type FileReader } from '../model/files.ts';
import { getModel } from '../store/models.ts';
import type { BaseModel } from '../peft/config.ts';
import { importAdapter } from '../peft/adapter.ts';
import { getAdapterFiles } from '../store/adapters.ts';
import type { HandlerContext } from './handler.ts';
import type { EngineInfo, EngineLoadRequest, GpuFault, GpuFaultPoint, LoadRequest, LoadResult } from './protocol.ts';

export interface EngineSession {
  request: EngineLoadRequest;
  engine: Engine;
  info: EngineInfo;
  /** What saved adapters must fit. */
  base: BaseModel;
  /** Which weights are attached: a saved adapter's id, `run:<id>` after a run, or null (the base). */
  attachedKey: string | null;
}

let runtime: BaseRuntime | null = null;
let session: EngineSession | null = null;

/**
 * transformers.js 4.3 only reads "local" models from a path, never from an http(s) URL (it skips its
 * local lookup for URLs), so the shipped models' URL becomes its path on this origin.
 */
function sameOriginPath(url: string): string {
  const parsed = new URL(url, self.location.href);
  if (parsed.origin !== self.location.origin) throw new Error(`the models folder ${url} is not on this site`);
  return parsed.pathname;
}

/** Loads the base model (replacing any other model, and the engine that ran it). */
export async function loadBase(request: LoadRequest, { emit }: HandlerContext): Promise<LoadResult> {
  emit({ type: 'status', stage: 'backend', message: 'Looking for a WebGPU adapter…' });
  const probe = await probeWebGPU();
  const choice = chooseBackend(request.backend, probe);
  useOwnOrtWasm();
  closeEngine();
  if (runtime) {
    const old = runtime;
    runtime = null;
    await old.dispose();
  }
  const where = choice.backend === 'webgpu' ? 'WebGPU' : 'WebAssembly';
  emit({ type: 'status', stage: 'download', message: `Loading ${request.model.id} for ${where}…` });
  let lastEmit = 0;
  runtime = await BaseRuntime.load({
    model: request.model,
    backend: choice.backend,
    f16: probe.f16,
    localModels: sameOriginPath(request.localModels),
    hubHost: request.hubHost,
    onProgress: (p) => {
      // Progress comes per network chunk; a few updates a second are plenty for a bar.
      const now = performance.now();
      if (now - lastEmit < 50 && p.loaded < p.total) return;
      lastEmit = now;
      emit({ type: 'progress', ...p });
    },
  });
  return { ...runtime.info, fallbackReason: choice.fallbackReason, adapter: choice.backend === 'webgpu' ? probe.adapter : undefined };
}

/** The loaded base runtime. */
export function baseRuntime(): BaseRuntime {
  if (!runtime) throw new Error('No model is loaded yet: load one first.');
  return runtime;
}

// ─── the engine ──────────────────────────────────────────────────────────────────────────────────

/**
 * Where the model's files are and how to read them: the app's models/<id>/ or the hub's
 * <id>/resolve/main/ (fetched), or the folder of a model made in this browser (IndexedDB).
 */
async function modelFolder(req: EngineLoadRequest, signal: AbortSignal): Promise<{ where: string; read: FileReader }> {
  if (req.model.source === 'browser') {
    const record = await getModel(req.model.id);
    if (!record) throw new Error(`the model made in this browser with id ${req.model.id} is not kept any more (deleted?): pick another model`);
    return { where: `the model "${record.name}" made in this browser`, read: storedModelReader(record.files) };
  }
  let where: string;
  if (req.model.source === 'shipped') {
    where = new URL(`${req.model.id}/`, req.localModels).href;
  } else {
    const host = req.hubHost ?? 'https://huggingface.co/';
    where = `${host.endsWith('/') ? host : host + '/'}${req.model.id}/resolve/main/`;
  }
  // Hub weights are kept in Cache Storage once downloaded whole: the next visit reads them offline.
  return { where, read: fetchReader(where, signal, req.model.source === 'hub' ? await openFilesCache() : null) };
}

async function openEngine(request: EngineLoadRequest, { emit, signal }: HandlerContext): Promise<EngineSession> {
  const reference = baseRuntime();
  if (reference.info.id !== request.model.id) {
    throw new Error(`the engine needs the base model it runs to be loaded first (${reference.info.id} is, not ${request.model.id})`);
  }
  const started = performance.now();
  emit({ type: 'status', stage: 'download', message: `Loading ${request.model.id} weights for the engine…` });
  const folder = await modelFolder(request, signal);
  const files = await readModelFiles(folder.read, folder.where, (p) => emit({ type: 'progress', ...p }));
  emit({ type: 'status', stage: 'upload', message: 'Uploading the weights to the GPU…' });
  const engine = await Engine.load(files);
  const info: EngineInfo = {
    model: request.model.id,
    config: engine.config,
    gpu: describeAdapter(engine.gpu.adapter),
    parameters: engine.parameters,
    vocabSize: engine.config.vocabSize,
    eosTokenIds: reference.info.eosTokenIds,
    referenceBackend: reference.info.backend,
    referenceDtype: reference.info.dtype,
    loadMs: performance.now() - started,
  };
  return { request, engine, info, base: { name: request.model.id, config: engine.config }, attachedKey: null };
}

function closeEngine(): void {
  if (!session) return;
  try {
    session.engine.destroy();
  } catch {
    // the device may be gone already
  }
  session = null;
}

/** Loads the engine for the base model that is loaded. */
export async function loadEngine(request: EngineLoadRequest, context: HandlerContext): Promise<EngineInfo> {
  closeEngine();
  session = await openEngine(request, context);
  return session.info;
}

/** The engine; after a lost device, a fresh one (same model) on a new device. */
export async function liveEngine(context: HandlerContext): Promise<EngineSession> {
  if (!session) throw new Error('The engine is not loaded yet: load a model first.');
  if (session.engine.lost) {
    const { request, engine } = session;
    context.emit({ type: 'status', stage: 'gpu', message: `${engine.lost} Starting a new GPU device…` });
    closeEngine();
    session = await openEngine(request, context);
  }
  return session;
}

/**
 * Attaches a saved adapter, or none (validated against the base again: IndexedDB could hold anything).
 * The upload is checked before the adapter counts as attached, so a GPU error while importing its
 * weights fails this request, and the next one imports them again.
 */
export async function attachSaved(s: EngineSession, adapterId: string | null): Promise<void> {
  if (s.attachedKey === adapterId && (adapterId === null) === (s.engine.method === null)) return;
  if (adapterId === null) {
    s.engine.detach();
    s.attachedKey = null;
    return;
  }
  const files = await getAdapterFiles(adapterId);
  const imported = importAdapter({ config: files.configJson, weights: files.weights }, s.base);
  s.attachedKey = null; // until the weights are in
  s.engine.attach(imported.config.method);
  s.engine.importWeights(imported.tensors);
  strike(s, 'import');
  await s.engine.whileAlive(s.engine.gpu.device.queue.onSubmittedWorkDone());
  await s.engine.gpu.checkErrors();
  s.attachedKey = adapterId;
}

// ─── test hooks: GPU faults ──────────────────────────────────────────────────────────────────────

/** Faults armed by a `debug` request, each waiting for the next request that reaches its point. */
let faults: GpuFault[] = [];

export function armFaults(more: GpuFault[]): void {
  faults = [...faults, ...more];
}

/** Injects the fault armed for `point`, if any, into the engine's GPU work (once). */
export function strike(s: EngineSession, point: GpuFaultPoint): void {
  const i = faults.findIndex((f) => f.at === point);
  if (i < 0) return;
  const [fault] = faults.splice(i, 1);
  s.engine.injectFault(fault.how);
}

/**
 * Runs an engine request's GPU work; a GPU failure comes back as a message that names what failed
 * and says the page can go on: a lost device is replaced on the next request (liveEngine), and after
 * a GPU error the engine is still loaded. Other errors pass as they are.
 */
export async function onGpu<T>(what: string, s: EngineSession, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    // The device's own message, if it is gone (a read can fail just before `lost` is known).
    const lost = s.engine.lost ?? (await Promise.race([s.engine.gpu.lost, Promise.resolve(null)]));
    if (e instanceof DeviceLost || lost) {
      throw new Error(`${what} stopped: ${lost ?? (e as Error).message} A new GPU device starts with the next request: try again.`, { cause: e });
    }
    if (e instanceof GpuError) throw new Error(`${what} failed on the GPU: ${e.message}. The engine is still loaded: try again.`, { cause: e });
    throw e;
  }
}

/** The prompt as both runtimes see it (the base runtime's own rendering and tokenization). */
export function renderPrompt(prompt: string, chat: boolean): RenderedPrompt {
  return baseRuntime().renderPrompt(prompt, chat);
}

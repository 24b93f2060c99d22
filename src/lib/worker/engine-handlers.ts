/// <reference lib="webworker" />
// Handlers for the engine (our WGSL): load it next to the onnxruntime-web reference, train with
// progress, checkpoints and recovery, evaluate held-out loss, compare two models token by token, and
// check that the engine's base logits match onnxruntime-web's.
//
// A session is one GPUDevice with the base model on it and the reference runtime (transformers.js)
// that tokenizes prompts and runs the base model on onnxruntime-web. One adapter at a time is attached
// to the engine's model; `attachedKey` says which (a saved adapter's id, a run's weights, or none).
//
// Checkpoints (trainable weights + AdamW's moments + step) go to IndexedDB, never only to the GPU, so a
// lost device or a reload loses at most the steps since the last one.

import type { PreTrainedModel } from '@huggingface/transformers';
import { Tensor as HfTensor } from '@huggingface/transformers';
import type { AdapterConfig } from '../adapters/config.ts';
import { fromPeftConfig } from '../adapters/config.ts';
import { chooseBackend, probeWebGPU } from '../base/backend.ts';
import { useOwnOrtWasm } from '../base/ort-assets.ts';
import { BaseRuntime, type GenerationResult, type StopReason, type StreamedToken } from '../base/runtime.ts';
import { createRng, normalizeSampling, sampleToken, type SamplingOptions } from '../base/sampling.ts';
import { acquireGpu, createTensor, readF32, Recorder, type Gpu } from '../gpu/index.ts';
import { Model, type ModelFiles } from '../model/model.ts';
import { baseShapeFromConfig, type BaseModelShape } from '../peft/base.ts';
import { exportAdapter, importAdapter, type AdapterTensors } from '../peft/adapter.ts';
import { getAdapterFiles, replaceAdapterFiles, saveAdapter } from '../store/adapters.ts';
import { loadCheckpoint, saveCheckpoint, type CheckpointRecord } from '../store/checkpoints.ts';
import { Trainer } from '../train/step.ts';
import { learningRateAt } from '../train/schedule.ts';
import { toAdapterConfig, toPeftConfig, type TrainingPlan } from '../train-plan.ts';
import { batchRows, checkpointInterval, evalBatches, gatherRows, meanLoss, peftTensorsOf, trainConfigOf } from './engine-run.ts';
import type {
  CompareSide,
  EngineInfo,
  EngineLoadRequest,
  LossAt,
  TrainHistory,
  TrainResult,
  TrainStatus,
  TrainUpdate,
} from './engine-protocol.ts';
import { PARITY_THRESHOLD } from './engine-protocol.ts';
import type { Handler, HandlerContext } from './handler.ts';

// ─── session ─────────────────────────────────────────────────────────────────────────────────────

interface Session {
  request: EngineLoadRequest;
  gpu: Gpu;
  model: Model;
  reference: BaseRuntime;
  info: EngineInfo;
  baseShape: BaseModelShape;
  /** Which weights are attached: a saved adapter's id, `run:<id>` while training, or null (the base). */
  attachedKey: string | null;
  /** Set (with the device's message) once the GPUDevice is lost: the session is then unusable. */
  lostMessage: string | null;
}

let session: Session | null = null;

/** Same-origin URL → path: transformers.js reads "local" models from a path only (as base-handlers.ts). */
function sameOriginPath(url: string): string {
  const parsed = new URL(url, self.location.href);
  if (parsed.origin !== self.location.origin) throw new Error(`the models folder ${url} is not on this site`);
  return parsed.pathname;
}

/** Where the model's files are: the app's models/<id>/ or the hub's <id>/resolve/main/. */
function modelFolder(req: EngineLoadRequest): string {
  if (req.model.source === 'shipped') return new URL(`${req.model.id}/`, req.localModels).href;
  const host = req.hubHost ?? 'https://huggingface.co/';
  return `${host.endsWith('/') ? host : host + '/'}${req.model.id}/resolve/main/`;
}

async function fetchOk(url: string, signal: AbortSignal): Promise<Response> {
  const response = await fetch(url, { signal });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
  return response;
}

/** Reads a response body, reporting bytes as they come. */
async function readBytes(response: Response, onBytes: (n: number) => void): Promise<Uint8Array> {
  const total = Number(response.headers.get('Content-Length') ?? 0);
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let n = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    n += value.byteLength;
    onBytes(n);
  }
  if (total && n !== total) throw new Error(`${response.url}: got ${n} of ${total} bytes`);
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** config.json, generation_config.json and the safetensors weights (one file or the shards of an index). */
async function fetchModelFiles(req: EngineLoadRequest, emit: HandlerContext['emit'], signal: AbortSignal): Promise<ModelFiles> {
  const folder = modelFolder(req);
  const config = await (await fetchOk(folder + 'config.json', signal)).text();
  const gen = await fetch(folder + 'generation_config.json', { signal });
  const generationConfig = gen.ok ? await gen.text() : undefined;
  let names = ['model.safetensors'];
  const single = await fetch(folder + 'model.safetensors', { signal });
  let first: Response | null = single;
  if (!single.ok) {
    first = null;
    const index = await fetch(folder + 'model.safetensors.index.json', { signal });
    if (!index.ok) throw new Error(`${folder}: no model.safetensors (HTTP ${single.status}) and no model.safetensors.index.json`);
    const map = (await index.json()) as { weight_map?: Record<string, string> };
    names = [...new Set(Object.values(map.weight_map ?? {}))];
  }
  const weights: Uint8Array[] = [];
  let before = 0;
  for (const name of names) {
    const response = first ?? (await fetchOk(folder + name, signal));
    first = null;
    const total = before + Number(response.headers.get('Content-Length') ?? 0);
    const bytes = await readBytes(response, (n) => emit({ type: 'progress', file: name, loaded: before + n, total: Math.max(total, before + n) }));
    before += bytes.byteLength;
    weights.push(bytes);
  }
  return { config, generationConfig, weights };
}

async function openSession(req: EngineLoadRequest, { emit, signal }: HandlerContext): Promise<Session> {
  const started = performance.now();
  emit({ type: 'status', stage: 'gpu', message: 'Starting the WebGPU engine…' });
  const gpu = await acquireGpu({ label: 'engine' });
  try {
    emit({ type: 'status', stage: 'download', message: `Loading ${req.model.id} weights for the engine…` });
    const files = await fetchModelFiles(req, emit, signal);
    emit({ type: 'status', stage: 'upload', message: 'Uploading the weights to the GPU…' });
    const model = Model.load(gpu, files);
    await gpu.checkErrors();

    emit({ type: 'status', stage: 'reference', message: 'Loading the onnxruntime-web reference…' });
    const probe = await probeWebGPU();
    const choice = chooseBackend(req.referenceBackend, probe);
    useOwnOrtWasm();
    const reference = await BaseRuntime.load({
      model: req.model,
      backend: choice.backend,
      f16: probe.f16,
      localModels: sameOriginPath(req.localModels),
      hubHost: req.hubHost,
    });

    const baseShape = baseShapeFromConfig(model.cfg, req.model.id);
    let parameters = 0;
    for (const p of model.arch.params) parameters += p.shape.reduce((a, b) => a * b, 1);
    const info: EngineInfo = {
      model: req.model.id,
      gpu: describeAdapter(gpu.adapter),
      baseShape,
      parameters,
      vocabSize: model.cfg.vocabSize,
      eosTokenIds: reference.info.eosTokenIds,
      referenceBackend: reference.info.backend,
      loadMs: performance.now() - started,
    };
    const s: Session = { request: req, gpu, model, reference, info, baseShape, attachedKey: null, lostMessage: null };
    void gpu.lost.then((message) => {
      s.lostMessage = message;
    });
    return s;
  } catch (err) {
    gpu.destroy();
    throw err;
  }
}

function describeAdapter(adapter: GPUAdapter): string {
  const i = adapter.info;
  return [i.vendor, i.architecture, i.description].filter(Boolean).join(' · ') || 'WebGPU adapter';
}

async function closeSession(s: Session): Promise<void> {
  if (session === s) session = null;
  try {
    s.model.destroy();
  } catch {
    // the device may be gone already
  }
  s.gpu.destroy();
  await s.reference.dispose();
}

/** The live session; after a lost device, a fresh one (same model) on a new device. */
async function liveSession(context: HandlerContext): Promise<Session> {
  if (!session) throw new Error('The engine is not loaded yet: load a model first.');
  if (session.lostMessage) {
    const request = session.request;
    context.emit({ type: 'status', stage: 'gpu', message: `${session.lostMessage} Starting a new GPU device…` });
    await closeSession(session);
    session = await openSession(request, context);
  }
  return session;
}

export const engineLoad: Handler<'engineLoad'> = async (request, context) => {
  if (session) await closeSession(session);
  session = await openSession(request, context);
  return session.info;
};

// ─── weights: attach, export, checkpoint ─────────────────────────────────────────────────────────

/** Attaches a saved adapter (validated against the base again: IndexedDB could hold anything). */
async function attachSaved(s: Session, adapterId: string | null): Promise<void> {
  if (s.attachedKey === adapterId && (adapterId === null || s.model.attached)) return;
  if (adapterId === null) {
    s.model.detach();
    s.attachedKey = null;
    return;
  }
  const files = await getAdapterFiles(adapterId);
  const imported = importAdapter({ config: files.configJson, weights: files.weights }, s.baseShape);
  attachTensors(s, fromPeftConfig(files.configJson), imported.tensors);
  s.attachedKey = adapterId;
}

function attachTensors(s: Session, config: AdapterConfig, tensors: AdapterTensors): void {
  const { def, params } = s.model.attach(config);
  const missing = new Set(def.specs.map((p) => p.name));
  for (const [key, t] of tensors) {
    const mapped = def.fromExport(key, t.shape, t.data);
    if (!mapped) throw new Error(`the adapter's tensor ${key} has no place in this model`);
    params.write(mapped.name, mapped.data);
    missing.delete(mapped.name);
  }
  if (missing.size) throw new Error(`the adapter lacks ${[...missing].slice(0, 3).join(', ')}${missing.size > 3 ? ', …' : ''}`);
}

/** What a checkpoint holds of the engine: the trainable store, AdamW's moments and its step. */
interface EngineState {
  t: number;
  params: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

/** The plan and the adapter it saves into: what Resume needs besides the weights. */
interface RunSetup {
  plan: TrainingPlan;
  adapterName: string;
  adapterId: string | null;
}

type RunCheckpoint = CheckpointRecord<EngineState, RunSetup, TrainHistory>;

async function snapshot(trainer: Trainer): Promise<EngineState> {
  const { params } = trainer.model.attached!;
  const [p, m, v] = [await params.readAll(), await trainer.optimizer.m.readAll(), await trainer.optimizer.v.readAll()];
  return { t: trainer.optimizer.t, params: p, m, v };
}

function restore(trainer: Trainer, state: EngineState): void {
  const { params } = trainer.model.attached!;
  if (state.params.length !== params.totalElements) {
    throw new Error(`the checkpoint holds ${state.params.length} trainable numbers, this method has ${params.totalElements}`);
  }
  params.writeAll(state.params);
  trainer.optimizer.m.writeAll(state.m);
  trainer.optimizer.v.writeAll(state.v);
  trainer.optimizer.t = state.t;
}

// ─── train ───────────────────────────────────────────────────────────────────────────────────────

class DeviceLost extends Error {}

/** Resolves `work`, or throws DeviceLost as soon as the device is lost (whichever comes first). */
async function unlessLost<T>(s: Session, work: Promise<T>): Promise<T> {
  if (s.lostMessage) throw new DeviceLost(s.lostMessage);
  const lost = s.gpu.lost.then((m) => {
    throw new DeviceLost(m);
  });
  return Promise.race([work, lost]);
}

/** Held-out loss of whatever is attached, over `rows` (B per pass). */
async function heldOutLoss(s: Session, rows: TrainingPlan['data']['validation'], B: number, padId: number) {
  const parts: { loss: number; counted: number }[] = [];
  for (const b of evalBatches(rows, B, padId)) {
    parts.push({ loss: await unlessLost(s, s.model.loss(b.ids, b.targets, B, rows.T)), counted: b.counted });
  }
  return meanLoss(parts);
}

export const train: Handler<'train'> = async (request, context) => {
  const { emit, signal } = context;
  const s = await liveSession(context);
  const say = (update: TrainUpdate) => emit({ type: 'train', update });

  // The run: fresh from the plan, or from its checkpoint.
  let setup: RunSetup;
  let resumed: RunCheckpoint | null = null;
  if (request.resume) {
    resumed = await loadCheckpoint<EngineState, RunSetup, TrainHistory>(request.runId);
    if (!resumed) throw new Error('This run has no checkpoint to resume from (it may have been cleared): start a new run.');
    setup = resumed.run;
  } else {
    if (!request.plan) throw new Error('a new run needs a training plan');
    setup = { plan: request.plan, adapterName: request.adapterName, adapterId: null };
  }
  const { plan } = setup;
  if (plan.model.id !== s.info.model) {
    throw new Error(`this run was planned for ${plan.model.id}, but the engine has ${s.info.model} loaded`);
  }
  const { hyper, data } = plan;
  const B = hyper.batchSize;
  const T = data.train.T;
  if (data.train.rows === 0) throw new Error('the plan has no training rows');
  const cfg = trainConfigOf(hyper);
  const every = Math.max(1, request.checkpointEvery ?? checkpointInterval(hyper.steps));

  s.model.attach(toAdapterConfig(plan.method), hyper.seed);
  s.attachedKey = `run:${request.runId}`;
  const trainer = new Trainer(s.model, cfg);
  const history: TrainHistory = resumed ? structuredClone(resumed.history) : { train: [], validation: [] };
  let good: { step: number; state: EngineState };
  let savedStep: number | null = resumed?.step ?? null;

  try {
    if (resumed) restore(trainer, resumed.state);
    good = { step: trainer.step, state: resumed ? resumed.state : await unlessLost(s, snapshot(trainer)) };
    const trainableParams = trainer.model.attached!.def.specs.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    say({
      kind: 'start',
      step: trainer.step,
      totalSteps: hyper.steps,
      history,
      trainableParams,
      rows: data.train.rows,
      validationRows: data.validation.rows,
      batch: B,
      seqLen: T,
    });

    const validate = async () => {
      if (data.validation.rows === 0) return;
      const { loss } = await heldOutLoss(s, data.validation, B, data.padId);
      history.validation.push({ step: trainer.step, loss });
      say({ kind: 'validation', step: trainer.step, loss });
    };
    const checkpoint = async () => {
      const state = await unlessLost(s, snapshot(trainer));
      good = { step: trainer.step, state };
      const record: RunCheckpoint = { runId: request.runId, step: trainer.step, savedAt: Date.now(), state, run: setup, history };
      await saveCheckpoint(record);
      savedStep = trainer.step;
      say({ kind: 'checkpoint', step: trainer.step, savedAt: record.savedAt });
    };

    if (!resumed) {
      await validate();
      await checkpoint(); // step 0: a lost device before the first interval resumes from here
    }

    let status: TrainStatus = 'finished';
    let message = '';
    let tokens = 0;
    let elapsedMs = 0;
    while (trainer.step < hyper.steps) {
      if (signal.aborted) {
        status = 'stopped';
        break;
      }
      const step = trainer.step; // 0-based index of this step
      const batch = gatherRows(data.train, batchRows(data.train.rows, B, hyper.seed, step));
      const lr = learningRateAt(cfg, step);
      const t0 = performance.now();
      const r = await unlessLost(s, trainer.trainStep([{ B, T, ids: batch.ids, targets: batch.targets }], lr));
      elapsedMs += performance.now() - t0;
      tokens += B * T;
      if (r.nonfinite) {
        // AdamW skipped this update on the GPU; the weights may still be bad from earlier steps
        // (finite but huge), so go back to the last checkpoint, which was finite.
        restore(trainer, good.state);
        const what = Number.isFinite(r.loss) ? `the gradients held NaN or Inf (loss ${r.loss.toFixed(4)})` : `the loss became ${r.loss}`;
        message = `At step ${step + 1}, ${what}. Training stopped and the weights were restored from step ${good.step}. Lower the learning rate and train again.`;
        say({ kind: 'restored', step: good.step, reason: message });
        history.train = history.train.filter((p) => p.step <= good.step);
        history.validation = history.validation.filter((p) => p.step <= good.step);
        status = 'diverged';
        break;
      }
      const done = trainer.step;
      history.train.push({ step: done, loss: r.loss });
      say({ kind: 'step', step: done, totalSteps: hyper.steps, loss: r.loss, lr, tokens, elapsedMs });
      if (request.loseDeviceAfterStep === done) s.gpu.device.destroy();
      if (request.poisonAfterStep === done) trainer.model.attached!.params.writeAll(new Float32Array(trainer.model.attached!.params.totalElements).fill(NaN));
      const last = done === hyper.steps;
      if (hyper.evalEvery > 0 && (done % hyper.evalEvery === 0 || last)) await validate();
      if (done % every === 0 && !last) await checkpoint();
    }

    if (status === 'finished') {
      if (hyper.evalEvery <= 0) await validate();
      message = `Trained ${trainer.step} steps.`;
    } else if (status === 'stopped') {
      message = `Stopped at step ${trainer.step} of ${hyper.steps}.`;
    }
    await checkpoint();
    setup.adapterId = await saveRunAdapter(s, setup, trainer, history);
    // The checkpoint now also knows the adapter it saves into.
    await saveCheckpoint({ runId: request.runId, step: trainer.step, savedAt: Date.now(), state: good.state, run: setup, history });
    return result(status, trainer.step, hyper.steps, message, setup.adapterId, trainer.step);
  } catch (err) {
    if (err instanceof DeviceLost || s.lostMessage) {
      const why = s.lostMessage ?? (err as Error).message;
      const from = savedStep === null ? 'from the start' : `from its checkpoint at step ${savedStep}`;
      return result('device-lost', savedStep ?? 0, hyper.steps, `${why} Press Resume to continue ${from} on a new device.`, setup.adapterId, savedStep);
    }
    throw err;
  } finally {
    trainer.destroy();
  }
};

function result(status: TrainStatus, step: number, totalSteps: number, message: string, adapterId: string | null, checkpointStep: number | null): TrainResult {
  return { status, step, totalSteps, message, adapterId, checkpointStep };
}

/** Exports the run's current weights as a PEFT adapter into IndexedDB (the same entry on every save). */
async function saveRunAdapter(s: Session, setup: RunSetup, trainer: Trainer, history: TrainHistory): Promise<string> {
  const flat = await unlessLost(s, trainer.model.attached!.params.readAll());
  const config = toPeftConfig(setup.plan.method, s.model.cfg, s.info.model);
  const exported = exportAdapter(config, peftTensorsOf(trainer.model.attached!, flat), s.baseShape);
  const lastOf = (xs: LossAt[]) => (xs.length ? xs[xs.length - 1].loss : null);
  const input = {
    name: setup.adapterName,
    configJson: exported.configJson,
    weights: exported.weights,
    source: 'trained' as const,
    training: {
      steps: trainer.step,
      trainLoss: lastOf(history.train),
      valLoss: lastOf(history.validation),
      dataset: setup.plan.data.name,
    },
  };
  const meta = setup.adapterId ? await replaceAdapterFiles(setup.adapterId, input) : await saveAdapter(input);
  // The engine's weights are now that saved adapter.
  s.attachedKey = meta.id;
  return meta.id;
}

// ─── evaluate ────────────────────────────────────────────────────────────────────────────────────

export const evaluate: Handler<'evaluate'> = async (request, context) => {
  const s = await liveSession(context);
  await attachSaved(s, request.adapterId);
  const { loss, tokens } = await heldOutLoss(s, request.rows, Math.max(1, request.batch), 0);
  if (tokens === 0) throw new Error('the held-out rows have no position the loss counts');
  return { loss, perplexity: Math.exp(loss), tokens };
};

// ─── generation with the engine ──────────────────────────────────────────────────────────────────

/**
 * Streams generated text: decodes the whole continuation after each token and emits what is new,
 * holding back text that ends in an incomplete UTF-8 character (as the base runtime's streamer).
 */
class TextStream {
  private printed = 0;
  constructor(
    private readonly decode: (ids: number[]) => string,
    private readonly onToken: (token: StreamedToken) => void,
  ) {}
  push(ids: number[]): void {
    const text = this.decode(ids);
    let piece = '';
    if (!text.endsWith('\uFFFD')) {
      piece = text.slice(this.printed);
      this.printed = text.length;
    }
    this.onToken({ index: ids.length - 1, id: ids[ids.length - 1], text: piece });
  }
  finish(ids: number[]): string {
    const text = this.decode(ids);
    const rest = text.slice(this.printed);
    if (rest && ids.length) this.onToken({ index: ids.length - 1, id: ids[ids.length - 1], text: rest });
    return text;
  }
}

/**
 * Generates with the engine and whatever is attached. Each token runs the model over the whole
 * sequence so far (padded to a fixed length, so one set of activations serves every step; causal
 * attention keeps the padding from reaching earlier positions) and reads back one row of logits.
 * The token is drawn by the same seeded sampler as the base runtime's, so the same logits give the
 * same token on both sides.
 */
async function engineGenerate(
  s: Session,
  prompt: { rendered: string; ids: number[] },
  sampling: SamplingOptions,
  onToken: (token: StreamedToken) => void,
  signal: AbortSignal,
): Promise<GenerationResult> {
  const model = s.model;
  const prefix = model.transformer.binding.prefixLength;
  const room = model.cfg.maxPositions - prefix;
  if (prompt.ids.length >= room) throw new Error(`the prompt has ${prompt.ids.length} tokens; this model takes at most ${room - 1}`);
  const T = Math.min(room, prompt.ids.length + sampling.maxNewTokens);
  const V = model.cfg.vocabSize;
  const ids = new Int32Array(T);
  ids.set(prompt.ids);
  const acts = model.activations(1, T, false);
  const [inputs] = model.inputTensors(1, T, 1);
  const row = createTensor(model.gpu, [1, V], 'f32', 'generate logits');
  const rng = createRng(sampling.seed);
  const generated: number[] = [];
  const stream = new TextStream((x) => s.reference.decode(x), onToken);
  const started = performance.now();
  let first = 0;
  let lastAt = 0;
  let stopReason: StopReason = 'length';
  try {
    for (let n = prompt.ids.length; n < T; n++) {
      if (signal.aborted) {
        stopReason = 'stopped';
        break;
      }
      const inp = model.writeInputs(inputs, ids);
      const rec = new Recorder(model.gpu, 'generate');
      model.transformer.forward(rec, acts, inp);
      model.transformer.logits(rec, acts, row, { start: n - 1, count: 1 });
      rec.submit();
      const logits = await unlessLost(s, readF32(model.gpu, row));
      const next = sampleToken(logits, sampling, rng);
      const now = performance.now();
      if (generated.length === 0) first = now;
      lastAt = now;
      generated.push(next);
      ids[n] = next;
      stream.push(generated);
      if (s.info.eosTokenIds.includes(next)) {
        stopReason = 'eos';
        break;
      }
    }
  } finally {
    row.buffer.destroy();
  }
  const text = stream.finish(generated);
  const prefillMs = generated.length ? first - started : performance.now() - started;
  const decodeMs = generated.length ? lastAt - first : 0;
  const tokensPerSecond =
    generated.length > 1 && decodeMs > 0 ? ((generated.length - 1) * 1000) / decodeMs : generated.length ? (generated.length * 1000) / (prefillMs + decodeMs) : 0;
  return { renderedPrompt: prompt.rendered, promptIds: prompt.ids, tokenIds: generated, text, stopReason, prefillMs, decodeMs, tokensPerSecond };
}

/** The prompt as both runtimes see it (the base runtime's own rendering and tokenization). */
function renderPrompt(s: Session, prompt: string, chat: boolean): { rendered: string; ids: number[] } {
  const useChat = chat && s.reference.info.hasChatTemplate;
  const rendered = s.reference.renderPrompt(prompt, useChat);
  const ids = s.reference.encode(rendered, !useChat);
  if (ids.length === 0) throw new Error('the prompt is empty: type something for the model to continue');
  return { rendered, ids };
}

// ─── compare ─────────────────────────────────────────────────────────────────────────────────────

const sideName = (side: CompareSide) => (side.runtime === 'onnx' ? 'onnx' : `engine:${side.adapterId ?? 'base'}`);

export const compare: Handler<'compare'> = async (request, context) => {
  const { emit, signal } = context;
  const s = await liveSession(context);
  const sampling = normalizeSampling(request.sampling);
  const { left, right } = request;
  if (left.runtime === 'onnx' && right.runtime === 'onnx') throw new Error('both sides are the onnxruntime base: pick an adapter for one side');
  const prompt = renderPrompt(s, request.prompt, request.chat);

  const run = async (side: CompareSide, which: 'left' | 'right'): Promise<GenerationResult> => {
    const onToken = (token: StreamedToken) => emit({ type: 'compareToken', side: which, token });
    if (side.runtime === 'onnx') return s.reference.generate(request.prompt, { ...sampling, chat: request.chat }, onToken, signal);
    await attachSaved(s, side.adapterId);
    return engineGenerate(s, prompt, sampling, onToken, signal);
  };

  // The engine holds one adapter at a time: two engine sides with different weights run one after
  // the other; an onnxruntime side streams alongside the engine side (both await between tokens).
  if (left.runtime === 'engine' && right.runtime === 'engine' && sideName(left) !== sideName(right)) {
    const l = await run(left, 'left');
    const r = await run(right, 'right');
    return { left: l, right: r };
  }
  const [l, r] = await Promise.all([run(left, 'left'), run(right, 'right')]);
  return { left: l, right: r };
};

// ─── parity ──────────────────────────────────────────────────────────────────────────────────────

/**
 * The reference's onnxruntime session, for one forward pass over the prompt. BaseRuntime keeps its
 * model private and has no logits() of its own yet; this reads the field it holds.
 */
function referenceModel(reference: BaseRuntime): PreTrainedModel {
  const model = (reference as unknown as { model?: PreTrainedModel }).model;
  if (!model) throw new Error('the onnxruntime-web reference has no model loaded');
  return model;
}

async function referenceLogits(reference: BaseRuntime, ids: number[]): Promise<Float32Array> {
  const model = referenceModel(reference);
  const input_ids = new HfTensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
  const attention_mask = new HfTensor('int64', BigInt64Array.from(ids.map(() => 1n)), [1, ids.length]);
  const outputs = (await model.forward({ input_ids, attention_mask })) as Record<string, HfTensor>;
  const logits = outputs.logits;
  const data = Float32Array.from(logits.data as Float32Array);
  for (const [name, t] of Object.entries(outputs)) if (name !== 'logits') t.dispose?.();
  return data;
}

export const parity: Handler<'parity'> = async (request, context) => {
  const s = await liveSession(context);
  const prompt = renderPrompt(s, request.prompt, request.chat);
  const T = prompt.ids.length;
  if (T > s.model.cfg.maxPositions) throw new Error(`the prompt has ${T} tokens; this model takes at most ${s.model.cfg.maxPositions}`);
  await attachSaved(s, null);
  const engine = await unlessLost(s, s.model.logits(Int32Array.from(prompt.ids), 1, T));
  const reference = await referenceLogits(s.reference, prompt.ids);
  const V = s.model.cfg.vocabSize;
  if (reference.length !== engine.length) {
    throw new Error(`onnxruntime gave ${reference.length} logits, the engine ${engine.length} (T ${T}, V ${V})`);
  }
  let max = 0;
  let sum = 0;
  let agree = 0;
  for (let t = 0; t < T; t++) {
    let ae = 0;
    let ar = 0;
    for (let v = 0; v < V; v++) {
      const i = t * V + v;
      const d = Math.abs(engine[i] - reference[i]);
      if (!(d <= max)) max = d; // NaN propagates
      sum += d;
      if (engine[i] > engine[t * V + ae]) ae = v;
      if (reference[i] > reference[t * V + ar]) ar = v;
    }
    if (ae === ar) agree++;
  }
  return {
    tokens: T,
    vocab: V,
    maxAbsDiff: max,
    meanAbsDiff: sum / (T * V),
    argmaxAgree: agree,
    threshold: PARITY_THRESHOLD,
    pass: max <= PARITY_THRESHOLD,
    referenceBackend: s.info.referenceBackend,
  };
};

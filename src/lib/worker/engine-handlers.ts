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
import { fromPeftConfig } from '../adapters/config.ts';
import { chooseBackend, probeWebGPU } from '../base/backend.ts';
import { useOwnOrtWasm } from '../base/ort-assets.ts';
import { BaseRuntime, type GenerationResult, type StopReason, type StreamedToken } from '../base/runtime.ts';
import { normalizeSampling, type SamplingOptions } from '../generate/sampling.ts';
import type { PackedRows } from '../data/pack.ts';
import { Engine, type Checkpoint, type ModelFiles } from '../engine.ts';
import { baseShapeFromConfig, type BaseModelShape } from '../peft/base.ts';
import { exportAdapter, importAdapter } from '../peft/adapter.ts';
import { getAdapterFiles, replaceAdapterFiles, saveAdapter } from '../store/adapters.ts';
import { loadCheckpoint, saveCheckpoint, type CheckpointRecord } from '../store/checkpoints.ts';
import { toAdapterConfig, toPeftConfig, type TrainingPlan } from '../train-plan.ts';
import { batchRows, checkpointInterval, evalBatches, gatherRows, trainConfigOf } from './engine-run.ts';
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
  engine: Engine;
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
  emit({ type: 'status', stage: 'download', message: `Loading ${req.model.id} weights for the engine…` });
  const files = await fetchModelFiles(req, emit, signal);
  emit({ type: 'status', stage: 'upload', message: 'Uploading the weights to the GPU…' });
  const engine = await Engine.load(files);
  try {
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
    const baseShape = baseShapeFromConfig(engine.config, req.model.id);
    const info: EngineInfo = {
      model: req.model.id,
      gpu: describeAdapter(engine.gpu.adapter),
      baseShape,
      parameters: engine.parameters,
      vocabSize: engine.config.vocabSize,
      eosTokenIds: reference.info.eosTokenIds,
      referenceBackend: reference.info.backend,
      loadMs: performance.now() - started,
    };
    const s: Session = { request: req, engine, reference, info, baseShape, attachedKey: null, lostMessage: null };
    void engine.gpu.lost.then((message) => {
      s.lostMessage = message;
    });
    return s;
  } catch (err) {
    engine.destroy();
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
    s.engine.destroy();
  } catch {
    // the device may be gone already
  }
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

// ─── weights: attach a saved adapter ─────────────────────────────────────────────────────────────

/** Attaches a saved adapter (validated against the base again: IndexedDB could hold anything). */
async function attachSaved(s: Session, adapterId: string | null): Promise<void> {
  if (s.attachedKey === adapterId && (adapterId === null) === (s.engine.method === null)) return;
  if (adapterId === null) {
    s.engine.detach();
    s.attachedKey = null;
    return;
  }
  const files = await getAdapterFiles(adapterId);
  const imported = importAdapter({ config: files.configJson, weights: files.weights }, s.baseShape);
  s.attachedKey = null; // until the weights are in
  s.engine.attach(fromPeftConfig(files.configJson));
  s.engine.importWeights(imported.tensors);
  s.attachedKey = adapterId;
}

/** The plan and the adapter it saves into: what Resume needs besides the weights. */
interface RunSetup {
  plan: TrainingPlan;
  adapterName: string;
  adapterId: string | null;
}

type RunCheckpoint = CheckpointRecord<Checkpoint, RunSetup, TrainHistory>;

// ─── train ───────────────────────────────────────────────────────────────────────────────────────

class DeviceLost extends Error {}

/** Resolves `work`, or throws DeviceLost as soon as the device is lost (whichever comes first). */
async function unlessLost<T>(s: Session, work: Promise<T>): Promise<T> {
  if (s.lostMessage) throw new DeviceLost(s.lostMessage);
  const lost = s.engine.gpu.lost.then((m) => {
    throw new DeviceLost(m);
  });
  return Promise.race([work, lost]);
}

/** Held-out loss of whatever is attached, over `rows` (B per pass). */
function heldOutLoss(s: Session, rows: PackedRows, B: number, padId: number): Promise<{ loss: number; tokens: number }> {
  const batches = evalBatches(rows, B, padId).map((b) => ({ B, T: rows.T, ids: b.ids, targets: b.targets }));
  return unlessLost(s, s.engine.evaluate(batches));
}

export const train: Handler<'train'> = async (request, context) => {
  const { emit, signal } = context;
  const s = await liveSession(context);
  const { engine } = s;
  const say = (update: TrainUpdate) => emit({ type: 'train', update });

  // The run: fresh from the plan, or from its checkpoint.
  let setup: RunSetup;
  let resumed: RunCheckpoint | null = null;
  if (request.resume) {
    resumed = await loadCheckpoint<Checkpoint, RunSetup, TrainHistory>(request.runId);
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
  const every = Math.max(1, request.checkpointEvery ?? checkpointInterval(hyper.steps));

  s.attachedKey = null;
  engine.attach(toAdapterConfig(plan.method), hyper.seed);
  engine.startTraining(trainConfigOf(hyper));
  s.attachedKey = `run:${request.runId}`;
  const history: TrainHistory = resumed ? structuredClone(resumed.history) : { train: [], validation: [] };
  let savedStep: number | null = resumed?.step ?? null;

  try {
    if (resumed) engine.restore(resumed.state);
    /** The last checkpoint, kept here too: a NaN restores it without a trip to IndexedDB. */
    let good: Checkpoint = resumed ? resumed.state : await unlessLost(s, engine.checkpoint());
    say({
      kind: 'start',
      step: engine.step,
      totalSteps: hyper.steps,
      history,
      trainableParams: engine.trainableParameters,
      rows: data.train.rows,
      validationRows: data.validation.rows,
      batch: B,
      seqLen: T,
    });

    const validate = async () => {
      if (data.validation.rows === 0) return;
      const { loss } = await heldOutLoss(s, data.validation, B, data.padId);
      history.validation.push({ step: engine.step, loss });
      say({ kind: 'validation', step: engine.step, loss });
    };
    const checkpoint = async () => {
      good = await unlessLost(s, engine.checkpoint());
      const record: RunCheckpoint = { runId: request.runId, step: good.step, savedAt: Date.now(), state: good, run: setup, history };
      await saveCheckpoint(record);
      savedStep = good.step;
      say({ kind: 'checkpoint', step: good.step, savedAt: record.savedAt });
    };

    if (!resumed) {
      await validate();
      await checkpoint(); // step 0: a lost device before the first interval resumes from here
    }

    let status: TrainStatus = 'finished';
    let message = '';
    let tokens = 0;
    let elapsedMs = 0;
    while (engine.step < hyper.steps) {
      if (signal.aborted) {
        status = 'stopped';
        break;
      }
      const step = engine.step; // 0-based index of this step
      const batch = gatherRows(data.train, batchRows(data.train.rows, B, hyper.seed, step));
      const t0 = performance.now();
      const r = await unlessLost(s, engine.trainStep([{ B, T, ids: batch.ids, targets: batch.targets }]));
      elapsedMs += performance.now() - t0;
      tokens += B * T;
      if (r.nonfinite) {
        // AdamW skipped this update on the GPU; the weights may still be bad from earlier steps
        // (finite but huge), so go back to the last checkpoint, which was finite.
        engine.restore(good);
        const what = Number.isFinite(r.loss) ? `the gradients held NaN or Inf (loss ${r.loss.toFixed(4)})` : `the loss became ${r.loss}`;
        message = `At step ${step + 1}, ${what}. Training stopped and the weights were restored from step ${good.step}. Lower the learning rate and train again.`;
        say({ kind: 'restored', step: good.step, reason: message });
        history.train = history.train.filter((p) => p.step <= good.step);
        history.validation = history.validation.filter((p) => p.step <= good.step);
        status = 'diverged';
        break;
      }
      const done = engine.step;
      history.train.push({ step: done, loss: r.loss });
      say({ kind: 'step', step: done, totalSteps: hyper.steps, loss: r.loss, lr: r.lr, tokens, elapsedMs });
      if (request.loseDeviceAfterStep === done) engine.gpu.device.destroy();
      const last = done === hyper.steps;
      if (hyper.evalEvery > 0 && (done % hyper.evalEvery === 0 || last)) await validate();
      if (done % every === 0 && !last) await checkpoint();
      if (request.poisonAfterStep === done) poison(engine);
    }

    if (status === 'finished') {
      if (hyper.evalEvery <= 0) await validate();
      message = `Trained ${engine.step} steps.`;
    } else if (status === 'stopped') {
      message = `Stopped at step ${engine.step} of ${hyper.steps}.`;
    }
    if (status !== 'diverged') await checkpoint(); // after a NaN, `good` is already the last checkpoint
    setup.adapterId = await saveRunAdapter(s, setup, history);
    // The checkpoint now also knows the adapter it saves into.
    await saveCheckpoint({ runId: request.runId, step: good.step, savedAt: Date.now(), state: good, run: setup, history });
    return result(status, engine.step, hyper.steps, message, setup.adapterId, good.step);
  } catch (err) {
    if (err instanceof DeviceLost || s.lostMessage) {
      const why = s.lostMessage ?? (err as Error).message;
      const from = savedStep === null ? 'from the start' : `from its checkpoint at step ${savedStep}`;
      return result('device-lost', savedStep ?? 0, hyper.steps, `${why} Press Resume to continue ${from} on a new device.`, setup.adapterId, savedStep);
    }
    throw err;
  } finally {
    if (!s.lostMessage) engine.endTraining();
  }
};

/** Test hook: NaN in every trainable weight, so the next step's loss is NaN. */
function poison(engine: Engine): void {
  const params = engine.model.attached!.params;
  params.writeAll(new Float32Array(params.totalElements).fill(NaN));
}

function result(status: TrainStatus, step: number, totalSteps: number, message: string, adapterId: string | null, checkpointStep: number | null): TrainResult {
  return { status, step, totalSteps, message, adapterId, checkpointStep };
}

/** Exports the run's current weights as a PEFT adapter into IndexedDB (the same entry on every save). */
async function saveRunAdapter(s: Session, setup: RunSetup, history: TrainHistory): Promise<string> {
  const tensors = await unlessLost(s, s.engine.exportWeights());
  const config = toPeftConfig(setup.plan.method, s.engine.config, s.info.model);
  const exported = exportAdapter(config, tensors, s.baseShape);
  const lastOf = (xs: LossAt[]) => (xs.length ? xs[xs.length - 1].loss : null);
  const input = {
    name: setup.adapterName,
    configJson: exported.configJson,
    weights: exported.weights,
    source: 'trained' as const,
    training: {
      steps: s.engine.step,
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

const STOP_REASONS = { 'stop-token': 'eos', length: 'length', aborted: 'stopped' } as const satisfies Record<string, StopReason>;

/**
 * Generates with the engine (KV cache) and whatever is attached. Tokens are drawn by the engine's
 * seeded sampler — the same algorithm and random stream as the base runtime's (mulberry32; temperature,
 * top-k, top-p in transformers' order) — so the same logits give the same token on both sides.
 */
async function engineGenerate(
  s: Session,
  prompt: { rendered: string; ids: number[] },
  sampling: SamplingOptions,
  onToken: (token: StreamedToken) => void,
  signal: AbortSignal,
): Promise<GenerationResult> {
  const generated: number[] = [];
  const stream = new TextStream((x) => s.reference.decode(x), onToken);
  const started = performance.now();
  let first = 0;
  let lastAt = 0;
  const it = s.engine.generate(prompt.ids, {
    maxNewTokens: sampling.maxNewTokens,
    sampling: { temperature: sampling.temperature, topK: sampling.topK, topP: sampling.topP, seed: sampling.seed },
    stopTokens: s.info.eosTokenIds,
    signal,
  });
  let stop: StopReason;
  for (;;) {
    const r = await unlessLost(s, it.next());
    if (r.done) {
      stop = STOP_REASONS[r.value];
      break;
    }
    const now = performance.now();
    if (generated.length === 0) first = now;
    lastAt = now;
    generated.push(r.value);
    stream.push(generated);
  }
  const text = stream.finish(generated);
  const prefillMs = generated.length ? first - started : performance.now() - started;
  const decodeMs = generated.length ? lastAt - first : 0;
  const tokensPerSecond =
    generated.length > 1 && decodeMs > 0 ? ((generated.length - 1) * 1000) / decodeMs : generated.length ? (generated.length * 1000) / (prefillMs + decodeMs) : 0;
  return { renderedPrompt: prompt.rendered, promptIds: prompt.ids, tokenIds: generated, text, stopReason: stop, prefillMs, decodeMs, tokensPerSecond };
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
  const cfg = s.engine.config;
  if (T > cfg.maxPositions) throw new Error(`the prompt has ${T} tokens; this model takes at most ${cfg.maxPositions}`);
  await attachSaved(s, null);
  const engine = await unlessLost(s, s.engine.logits(Int32Array.from(prompt.ids), 1, T));
  const reference = await referenceLogits(s.reference, prompt.ids);
  const V = cfg.vocabSize;
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

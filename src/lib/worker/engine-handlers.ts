/// <reference lib="webworker" />
// Handlers for the engine (our WGSL): load it next to the base runtime, train through the one run
// loop (train/run.ts) with checkpoints in IndexedDB, evaluate held-out loss, compare two models token
// by token, draw one sample from any side, and check that the engine's base logits match onnxruntime-web's.

import type { GenerationResult, StreamedToken } from '../generate/stream.ts';
import { argmax, normalizeSampling, type SamplingOptions } from '../generate/sampling.ts';
import type { Checkpoint } from '../engine.ts';
import { withScoreHead } from '../adapters/config.ts';
import { isReward } from '../train/objective.ts';
import { exportAdapter, importAdapter } from '../peft/adapter.ts';
import { getAdapterFiles, replaceAdapterFiles, saveAdapter } from '../store/adapters.ts';
import { loadCheckpoint, saveCheckpoint, type CheckpointRecord } from '../store/checkpoints.ts';
import { heldOutLoss, runTraining, type RunDebug, type StartWeights, type TrainHistory } from '../train/run.ts';
import type { Handler } from './handler.ts';
import { PARITY_THRESHOLD, type CompareSide, type RunSetup, type TrainResult } from './protocol.ts';
import { armFaults, attachSaved, baseRuntime, liveEngine, loadEngine, onGpu, renderPrompt, strike, type EngineSession } from './session.ts';

export const engineLoad: Handler<'engineLoad'> = (request, context) => loadEngine(request, context);

// ─── train ───────────────────────────────────────────────────────────────────────────────────────

type RunCheckpoint = CheckpointRecord<Checkpoint, RunSetup, TrainHistory>;

/** Test hooks armed by a `debug` request, used by the next fresh run. */
let armed: RunDebug | null = null;

export const debug: Handler<'debug'> = async (request) => {
  const { faults, loseDeviceAfterStep, poisonAfterStep } = request;
  if (faults) armFaults(faults);
  if (loseDeviceAfterStep !== undefined || poisonAfterStep !== undefined) armed = { loseDeviceAfterStep, poisonAfterStep };
  return { armed: true };
};

export const train: Handler<'train'> = async (request, context) => {
  const { emit, signal } = context;
  const s = await liveEngine(context);
  let setup: RunSetup;
  let resumed: RunCheckpoint | null = null;
  if (request.resume) {
    resumed = await loadCheckpoint<Checkpoint, RunSetup, TrainHistory>(request.runId);
    if (!resumed) throw new Error('This run has no checkpoint to resume from (it may have been cleared): start a new run.');
    setup = resumed.run;
  } else {
    if (!request.plan) throw new Error('a new run needs a training plan');
    setup = { plan: request.plan, adapterName: request.adapterName, adapterId: null, fromAdapterId: request.fromAdapterId ?? null };
  }
  const { plan } = setup;
  if (plan.model.id !== s.info.model) throw new Error(`this run was planned for ${plan.model.id}, but the engine has ${s.info.model} loaded`);
  const start = setup.fromAdapterId ? await startWeights(s, setup.fromAdapterId, plan) : null;
  const debugHooks = resumed ? undefined : (armed ?? undefined);
  armed = null;

  const keep = (state: Checkpoint, history: TrainHistory) =>
    saveCheckpoint({ runId: request.runId, step: state.step, savedAt: Date.now(), state, run: setup, history } satisfies RunCheckpoint);
  s.attachedKey = null;
  const run = await runTraining(s.engine, { ...plan, start, general: resumed ? null : (request.general ?? null) }, {
    onUpdate: (update) => {
      if (update.kind === 'start') setup.trainableParams = update.trainableParams;
      emit({ type: 'train', update });
    },
    keepCheckpoint: keep,
    checkpointEvery: request.checkpointEvery,
    resume: resumed ? { state: resumed.state, history: resumed.history } : null,
    signal,
    debug: debugHooks,
  });
  const result: TrainResult = {
    status: run.status,
    step: run.step,
    totalSteps: run.totalSteps,
    message: run.message,
    adapterId: setup.adapterId,
    checkpointStep: run.keptStep,
  };
  if (run.status === 'device-lost') return result;
  s.attachedKey = `run:${request.runId}`;
  setup.adapterId = await saveRunAdapter(s, setup, run.step, run.history);
  if (run.general) setup.generalLoss = run.general; // the Forgetting view reads it from the kept run
  // The checkpoint now also knows the adapter it saves into (and what the run forgot).
  await keep(run.last!, run.history);
  const bestAdapterId = await saveBestAdapter(s, setup, run);
  return { ...result, adapterId: setup.adapterId, bestAdapterId };
};

/**
 * The weights at the run's lowest validation loss as their own adapter, "<name> (best, step N)", next
 * to the last ones; only when they were trained (not step 0) and are not the last step's.
 */
async function saveBestAdapter(s: EngineSession, setup: RunSetup, run: Awaited<ReturnType<typeof runTraining>>): Promise<string | null> {
  const best = run.best;
  const method = trainedMethod(setup.plan);
  if (!best || best.step === 0 || best.step === run.step || method.peft_type === 'FULL') return null;
  const exported = exportAdapter(method, await s.engine.whileAlive(s.engine.exportWeights(best.state)), s.base);
  const meta = await saveAdapter({
    name: `${setup.adapterName} (best, step ${best.step})`,
    configJson: exported.configJson,
    weights: exported.weights,
    source: 'trained',
    training: {
      steps: best.step,
      trainLoss: run.history.train.find((p) => p.step === best.step)?.loss ?? null,
      valLoss: best.loss,
      dataset: setup.plan.data.name,
    },
  });
  return meta.id;
}

/**
 * A saved adapter as a run's starting weights, validated against the base as an import is; its method
 * must be the plan's (the page plans a continued run with the adapter's method).
 */
async function startWeights(s: EngineSession, adapterId: string, plan: RunSetup['plan']): Promise<StartWeights> {
  const files = await getAdapterFiles(adapterId).catch(() => {
    throw new Error('The adapter this run continues is no longer saved (it may have been deleted): start a new run.');
  });
  const imported = importAdapter({ config: files.configJson, weights: files.weights }, s.base);
  if (JSON.stringify(imported.config.method) !== JSON.stringify(plan.method)) {
    throw new Error(`the adapter this run continues is ${imported.config.method.peft_type} with other settings than the plan's ${plan.method.peft_type}: plan the run with the adapter's method`);
  }
  return { name: imported.name ?? undefined, tensors: imported.tensors };
}

/** The method whose weights a run trains: a reward model's carries the score head (as runTraining attaches it). */
function trainedMethod(plan: RunSetup['plan']): RunSetup['plan']['method'] {
  return isReward(plan.objective) ? withScoreHead(plan.method) : plan.method;
}

/** Exports the run's current weights as a PEFT adapter into IndexedDB (the same entry on every save). */
async function saveRunAdapter(s: EngineSession, setup: RunSetup, steps: number, history: TrainHistory): Promise<string> {
  const method = trainedMethod(setup.plan);
  if (method.peft_type === 'FULL') throw new Error('full fine-tuning saves a model folder, not an adapter');
  const exported = exportAdapter(method, await s.engine.whileAlive(s.engine.exportWeights()), s.base);
  const last = <T>(xs: T[]) => (xs.length ? xs[xs.length - 1] : null);
  const input = {
    name: setup.adapterName,
    configJson: exported.configJson,
    weights: exported.weights,
    source: 'trained' as const,
    training: {
      steps,
      trainLoss: last(history.train)?.loss ?? null,
      valLoss: last(history.validation)?.loss ?? null,
      dataset: setup.plan.data.name,
    },
  };
  const meta = setup.adapterId ? await replaceAdapterFiles(setup.adapterId, input) : await saveAdapter(input);
  s.attachedKey = meta.id; // the engine's weights are now that saved adapter
  return meta.id;
}

// ─── evaluate ────────────────────────────────────────────────────────────────────────────────────

/** What attaching a saved adapter is called when its GPU work fails. */
const IMPORTING = "Importing the adapter's weights to the GPU";

export const evaluate: Handler<'evaluate'> = async (request, context) => {
  const s = await liveEngine(context);
  await onGpu(IMPORTING, s, () => attachSaved(s, request.adapterId));
  const { loss, tokens } = await onGpu('Measuring the held-out loss', s, async () => {
    strike(s, 'evaluate');
    return heldOutLoss(s.engine, request.rows, Math.max(1, request.batch), request.padId);
  });
  if (tokens === 0) throw new Error('the held-out rows have no position the loss counts');
  return { loss, perplexity: Math.exp(loss), tokens };
};

// ─── compare ─────────────────────────────────────────────────────────────────────────────────────

const sideName = (side: CompareSide) => (side.runtime === 'onnx' ? 'onnx' : `engine:${side.adapterId ?? 'base'}`);

/**
 * The side that actually runs: the onnxruntime base of a model with no ONNX graph (one made in this
 * browser) is the engine with no adapter — the page says so next to the pickers.
 */
function servedSide(side: CompareSide): CompareSide {
  return side.runtime === 'onnx' && !baseRuntime().hasOnnx ? { runtime: 'engine', adapterId: null } : side;
}

/**
 * One generation from one side: the base on onnxruntime-web, or the engine with the side's adapter
 * attached (or none). Both sample with the one seeded sampler, so the same logits give the same token.
 */
export async function generateOn(
  s: EngineSession,
  side: CompareSide,
  request: { prompt: string; chat: boolean },
  sampling: SamplingOptions,
  signal: AbortSignal,
  onToken: (token: StreamedToken) => void,
  what: string,
): Promise<GenerationResult> {
  side = servedSide(side);
  if (side.runtime === 'onnx') return baseRuntime().generate(request.prompt, { ...sampling, chat: request.chat }, onToken, signal);
  const prompt = renderPrompt(request.prompt, request.chat);
  await onGpu(IMPORTING, s, () => attachSaved(s, side.adapterId));
  return onGpu(what, s, async () => {
    strike(s, 'generate');
    const opts = { maxNewTokens: sampling.maxNewTokens, sampling, stopTokens: s.info.eosTokenIds, signal };
    return s.engine.generateText(prompt, opts, (ids) => baseRuntime().decode(ids), onToken);
  });
}

export const compare: Handler<'compare'> = async (request, context) => {
  const { emit, signal } = context;
  const s = await liveEngine(context);
  const sampling = normalizeSampling(request.sampling);
  const [left, right] = [servedSide(request.left), servedSide(request.right)];
  if (left.runtime === 'onnx' && right.runtime === 'onnx') throw new Error('both sides are the onnxruntime base: pick an adapter for one side');

  // Both sides stop when the page cancels, and when the other side fails (an onnxruntime side left
  // running would make the next request find the base runtime busy).
  const both = new AbortController();
  const stop = () => both.abort();
  signal.addEventListener('abort', stop);
  const run = (side: CompareSide, which: 'left' | 'right'): Promise<GenerationResult> =>
    generateOn(s, side, request, sampling, both.signal, (token) => emit({ type: 'compareToken', side: which, token }), `The ${which} side's generation`);

  try {
    // The engine holds one adapter at a time: two engine sides with different weights run one after
    // the other; an onnxruntime side streams alongside the engine side (both await between tokens).
    if (left.runtime === 'engine' && right.runtime === 'engine' && sideName(left) !== sideName(right)) {
      const l = await run(left, 'left');
      const r = await run(right, 'right');
      return { left: l, right: r };
    }
    const sides = await Promise.allSettled(
      [run(left, 'left'), run(right, 'right')].map((p) =>
        p.catch((e: unknown) => {
          stop();
          throw e;
        }),
      ),
    );
    const failed = sides.find((x) => x.status === 'rejected');
    if (failed) throw failed.reason;
    const [l, r] = sides as PromiseFulfilledResult<GenerationResult>[];
    return { left: l.value, right: r.value };
  } finally {
    signal.removeEventListener('abort', stop);
  }
};

// ─── sample ──────────────────────────────────────────────────────────────────────────────────────

/** One generation from any side, streamed as `token` events ("sample and pick" draws K, the seed varied). */
export const sample: Handler<'sample'> = async (request, context) => {
  const s = await liveEngine(context);
  const sampling = normalizeSampling(request.sampling);
  return generateOn(s, request.side, request, sampling, context.signal, (token) => context.emit({ type: 'token', token }), 'The sample');
};

// ─── parity ──────────────────────────────────────────────────────────────────────────────────────

export const parity: Handler<'parity'> = async (request, context) => {
  if (!baseRuntime().hasOnnx) {
    throw new Error(`no ONNX for ${baseRuntime().info.id}: there is no onnxruntime-web base to check the engine against (the engine serves its base)`);
  }
  const s = await liveEngine(context);
  const prompt = renderPrompt(request.prompt, request.chat);
  const T = prompt.ids.length;
  const V = s.engine.config.vocabSize;
  if (T > s.engine.config.maxPositions) throw new Error(`the prompt has ${T} tokens; this model takes at most ${s.engine.config.maxPositions}`);
  const engine = await onGpu('The logits check', s, async () => {
    await attachSaved(s, null);
    strike(s, 'parity');
    return s.engine.whileAlive(s.engine.logits(Int32Array.from(prompt.ids), 1, T));
  });
  const reference = await baseRuntime().logits(prompt.ids);
  if (reference.length !== engine.length) throw new Error(`onnxruntime gave ${reference.length} logits, the engine ${engine.length} (T ${T}, V ${V})`);
  let max = 0;
  let sum = 0;
  let agree = 0;
  for (let t = 0; t < T; t++) {
    const e = engine.subarray(t * V, (t + 1) * V);
    const r = reference.subarray(t * V, (t + 1) * V);
    for (let v = 0; v < V; v++) {
      const d = Math.abs(e[v] - r[v]);
      if (!(d <= max)) max = d; // NaN propagates
      sum += d;
    }
    if (argmax(e) === argmax(r)) agree++;
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

// The run loop: one training run from its plan to its end, the same for the page's worker, the
// command line and the tests. It owns the batches (data/batches.ts), the learning-rate schedule,
// validation every eval_steps, checkpoints, the NaN/Inf stop with rollback to the last good
// checkpoint, a lost GPU device, Stop (an AbortSignal) and Resume (a checkpoint to continue from).
// What it does not own is passed in: where progress goes (onUpdate) and where checkpoints are kept
// (keepCheckpoint: IndexedDB in the page, a file or nowhere on the command line).
//
//   attach the method (seeded, or the starting adapter's weights) → [DPO: the reference log-probs of
//   every train and validation row, once, with the weights the run starts from] → fresh AdamW →
//   [restore a checkpoint]
//   step 0: validate, keep a checkpoint
//   each step: micro-batches → engine.trainStep at the schedule's rate → loss (and a preference
//              objective's metrics)
//              NaN/Inf → restore the last good checkpoint, stop ('diverged')
//              every eval_steps and at the end: validation loss (and metrics)
//              every checkpointEvery steps: keep a checkpoint
//   at the end (or on Stop): keep a checkpoint
//   each validation loss below every earlier one: a copy of the weights (RunResult.best), offered next
//   to the last ones; early_stopping_patience evaluations in a row without one: stop (train/best.ts)
//
// The objective (train/objective.ts) is SFT unless the input names another. A preference objective
// trains on pairs (PackedRows.pairs; config.per_device_train_batch_size counts pairs, as in TRL). DPO's
// reference is the policy with the adapter switched off — the base weights the engine already holds —
// or, for a run that starts from a saved adapter, that adapter as it was at the start (TRL's "ref"
// adapter); its log-probs are computed once per run, so the reference needs no weights of its own.

import type { MethodConfig } from '../adapters/config.ts';
import { evalBatches, realTokens, rowBatches, stepBatches } from '../data/batches.ts';
import type { PackedRows } from '../data/pack.ts';
import { DeviceLost, type Checkpoint, type Engine, type ExportedTensor } from '../engine.ts';
import type { TrainConfig } from './config.ts';
import { withScoreHead } from '../adapters/config.ts';
import { describeObjective, isPreference, isReward, needsReference, SFT, type ObjectiveConfig, type ObjectiveType, type PreferenceMetrics } from './objective.ts';
import { learningRateAt } from './schedule.ts';
import { BestTracker } from './best.ts';
import { scoreTokens } from '../eval/metrics.ts';

export interface LossAt {
  step: number;
  loss: number;
  /** a preference objective's metrics at that point (TRL's names) */
  metrics?: PreferenceMetrics;
  /** validation only, SFT on rows of one example each: share of counted tokens predicted greedily right (TRL's mean_token_accuracy) */
  tokenAccuracy?: number;
}

/** Loss curves, as a checkpoint keeps them and a resumed run starts from. */
export interface TrainHistory {
  train: LossAt[];
  validation: LossAt[];
}

export type RunStatus = 'finished' | 'stopped' | 'diverged' | 'device-lost';

/** Progress of a run, one per event. */
export type TrainUpdate =
  | {
      kind: 'start';
      step: number;
      totalSteps: number;
      /** The curves so far (empty for a fresh run; the checkpoint's for a resumed one). */
      history: TrainHistory;
      trainableParams: number;
      /** Train rows, validation rows, B and T (B counts pairs, two rows each, for a preference objective). */
      rows: number;
      validationRows: number;
      batch: number;
      seqLen: number;
      objective: ObjectiveType;
    }
  | {
      kind: 'step';
      step: number;
      totalSteps: number;
      loss: number;
      lr: number;
      /** Real tokens (each row up to its last counted target; no padding) trained on since this start or resume. */
      tokens: number;
      /** Milliseconds spent in steps since this start or resume. */
      elapsedMs: number;
      /** a preference objective's metrics over the step's pairs (TRL's names) */
      metrics?: PreferenceMetrics;
    }
  | {
      kind: 'stage';
      /** What the run is doing before its next step, in words (the first step also compiles the GPU programs). */
      message: string;
    }
  | { kind: 'validation'; step: number; loss: number; metrics?: PreferenceMetrics; tokenAccuracy?: number }
  /** a validation loss below every earlier one: the run kept these weights as its best */
  | { kind: 'best'; step: number; loss: number }
  | { kind: 'checkpoint'; step: number; savedAt: number }
  /** A sample generation from the weights as they are at `step` (RunOptions.sample). */
  | { kind: 'sample'; step: number; text: string }
  /** Mean loss on the general text (RunInput.general) before the run (at its first step) or after it. */
  | { kind: 'general'; step: number; loss: number; before: number | null }
  | { kind: 'restored'; step: number; reason: string };

/** Weights a run starts from instead of the method's seeded initial values: a saved or imported adapter. */
export interface StartWeights {
  /** the adapter's name, for messages */
  name?: string;
  /** its tensors, PEFT keys (Engine.importWeights): they must be exactly the method's */
  tensors: Map<string, ExportedTensor> | Record<string, ExportedTensor>;
}

/** What a run trains: the plan's method, objective, config and rows (train/plan.ts). */
export interface RunInput {
  method: MethodConfig;
  /** SFT when absent */
  objective?: ObjectiveConfig;
  config: TrainConfig;
  data: { train: PackedRows; validation: PackedRows; padId: number };
  /** optimizer steps in the whole run (train/config.ts totalSteps) */
  steps: number;
  /** continue from these weights (of `method`) rather than its seeded initial values */
  start?: StartWeights | null;
  /**
   * General text (train/pretrain general.ts rows) whose loss is measured with the weights the run
   * starts from and again at its end: how much of the general language the run forgets.
   */
  general?: PackedRows | null;
}

export interface RunOptions {
  /** Every progress event, in order. */
  onUpdate?: (update: TrainUpdate) => void;
  /** Keeps a checkpoint where it survives the device (and, in the page, a reload). */
  keepCheckpoint?: (state: Checkpoint, history: TrainHistory) => Promise<void>;
  /** Keep a checkpoint every this many steps; about ten per run by default (checkpointInterval). */
  checkpointEvery?: number;
  /** Continue from this checkpoint with these curves. */
  resume?: { state: Checkpoint; history: TrainHistory } | null;
  /** Stop after the current step. */
  signal?: AbortSignal;
  /** Test hooks: lose the device after a step, or fill the weights with NaN after a step. */
  debug?: RunDebug;
  /** Every `every` steps (and at the end), a 'sample' update with the text `generate` makes from the current weights. */
  sample?: { every: number; generate: (engine: Engine) => Promise<string> };
}

export interface RunDebug {
  /** destroys the engine's GPUDevice after this step, as a driver reset or a crashed GPU process would */
  loseDeviceAfterStep?: number;
  /** overwrites the trainable weights with NaN after this step, so the next loss is NaN */
  poisonAfterStep?: number;
}

export interface RunResult {
  status: RunStatus;
  /** Optimizer steps done when it ended (the checkpoint's step after a NaN). */
  step: number;
  totalSteps: number;
  /** What happened, in a sentence for the user. */
  message: string;
  history: TrainHistory;
  /** The last good state (what a NaN rolled back to; the final weights otherwise); null if the device was lost first. */
  last: Checkpoint | null;
  /** Step of the last checkpoint handed to keepCheckpoint (null when none was). */
  keptStep: number | null;
  /** The weights at the lowest validation loss of this start or resume (null without validation, or when an earlier start had the lowest). */
  best: { step: number; loss: number; state: Checkpoint } | null;
  /** Early stopping ended the run (config.early_stopping_patience). */
  stoppedEarly: boolean;
  /** Tokens processed and milliseconds spent in steps in this start or resume. */
  tokens: number;
  elapsedMs: number;
  /** Mean loss on RunInput.general with the starting weights and the final ones (absent without general text). */
  general?: { before: number; after: number };
}

/** Checkpoints: about ten per run, and at least every 25 steps. */
export function checkpointInterval(steps: number): number {
  return Math.min(25, Math.max(1, Math.ceil(steps / 10)));
}

/** Mean loss (masked cross-entropy) of whatever the engine has attached over every counted position of `rows`. */
export function heldOutLoss(engine: Engine, rows: PackedRows, B: number, padId: number): Promise<{ loss: number; tokens: number }> {
  return engine.whileAlive(engine.evaluate(evalBatches(rows, B, padId)));
}

/**
 * Share of the counted validation tokens whose argmax is the target (teacher-forced, as TRL's
 * mean_token_accuracy), from each batch's logits; undefined for packed plain text, whose rows hold
 * several documents at their own positions (the logits pass knows only 0..T-1).
 */
async function validationAccuracy(engine: Engine, batches: ReturnType<typeof evalBatches>): Promise<number | undefined> {
  let tokens = 0;
  let correct = 0;
  const V = engine.config.vocabSize;
  for (const b of batches) {
    if (b.positions) return undefined;
    const logits = await engine.whileAlive(engine.logits(b.ids, b.B, b.T));
    for (let r = 0; r < b.B; r++) {
      const s = scoreTokens(logits.subarray(r * b.T * V, (r + 1) * b.T * V), V, b.targets.subarray(r * b.T, (r + 1) * b.T));
      tokens += s.tokens;
      correct += s.correct;
    }
  }
  return tokens ? correct / tokens : undefined;
}

/** Runs (or resumes) a training run on `engine` until it finishes, is stopped, diverges or loses its device. */
export async function runTraining(engine: Engine, input: RunInput, opts: RunOptions = {}): Promise<RunResult> {
  const { config, data, steps } = input;
  const objective = input.objective ?? SFT;
  const pairs = isPreference(objective);
  const B = config.per_device_train_batch_size;
  const G = config.gradient_accumulation_steps;
  const T = data.train.T;
  if (data.train.rows === 0) throw new Error('there are no training rows');
  if (!(steps >= 1)) throw new Error(`a run needs at least one step (got ${steps})`);
  if (pairs && !data.train.pairs) throw new Error(`${describeObjective(objective)} trains on preference pairs, and these rows are not pairs`);
  if (!pairs && data.train.pairs) throw new Error('these rows are preference pairs: supervised fine-tuning cannot train on them');
  const say = (u: TrainUpdate) => opts.onUpdate?.(u);
  const every = Math.max(1, opts.checkpointEvery ?? checkpointInterval(steps));
  const debug = opts.debug ?? {};
  const rowsPerBatch = pairs ? 2 * B : B;

  const history: TrainHistory = opts.resume ? structuredClone(opts.resume.history) : { train: [], validation: [] };
  let last: Checkpoint | null = null;
  let keptStep: number | null = opts.resume?.state.step ?? null;
  const tracker = new BestTracker(config.early_stopping_patience ?? 0, history.validation);
  let best: RunResult['best'] = null;
  let stoppedEarly = false;
  let tokens = 0;
  let elapsedMs = 0;
  let general: RunResult['general'];
  const result = (status: RunStatus, message: string): RunResult => ({
    ...(general ? { general } : {}),
    status,
    step: engine.step,
    totalSteps: steps,
    message,
    history,
    last,
    keptStep,
    best,
    stoppedEarly,
    tokens,
    elapsedMs,
  });

  try {
    // The weights the run starts from: the method's seeded values, or the starting adapter's.
    // A reward model is the method with the score head (modules_to_save "score") on top.
    const method = isReward(objective) ? withScoreHead(input.method) : input.method;
    const attachStart = () => {
      engine.attach(method, config.seed);
      if (input.start) engine.importWeights(input.start.tensors);
    };
    // The general text's loss with the weights the run starts from: the base model (a fresh method may
    // not start as the identity: prefix tuning's N(0,1) prefix), or the starting adapter.
    let generalBefore: number | null = null;
    if (input.general && input.general.rows > 0 && !opts.resume) {
      if (input.start) attachStart();
      else engine.detach();
      say({ kind: 'stage', message: `Measuring the general text's loss before training (${input.general.countedTokens} tokens)…` });
      generalBefore = (await heldOutLoss(engine, input.general, B, data.padId)).loss;
      say({ kind: 'general', step: 0, loss: generalBefore, before: null });
    }
    const finish = async () => {
      if (opts.sample) say({ kind: 'sample', step: engine.step, text: await engine.whileAlive(opts.sample.generate(engine)) });
      if (!input.general || input.general.rows === 0) return;
      const after = (await heldOutLoss(engine, input.general, B, data.padId)).loss;
      say({ kind: 'general', step: engine.step, loss: after, before: generalBefore });
      if (generalBefore !== null) general = { before: generalBefore, after };
    };
    let reference: { train: Float32Array; validation: Float32Array } | null = null;
    if (needsReference(objective)) {
      // The reference is the starting adapter, frozen, or (a fresh adapter) the base with none attached.
      if (input.start) attachStart();
      else engine.detach();
      const what = input.start ? `the starting adapter${input.start.name ? ` "${input.start.name}"` : ''}` : 'the base model';
      say({ kind: 'stage', message: `Computing the reference log-probabilities of ${(data.train.rows + data.validation.rows) / 2} pairs once, with ${what}…` });
      const logps = (rows: PackedRows) => engine.whileAlive(engine.sequenceLogps(rowBatches(rows, rowsPerBatch, data.padId))).then((x) => x.slice(0, rows.rows));
      reference = { train: await logps(data.train), validation: await logps(data.validation) };
      if (!input.start) attachStart();
    } else {
      attachStart();
    }
    engine.startTraining(config, objective);
    if (opts.resume) engine.restore(opts.resume.state, config);
    last = opts.resume ? opts.resume.state : await engine.whileAlive(engine.checkpoint());
    say({
      kind: 'start',
      step: engine.step,
      totalSteps: steps,
      history: structuredClone(history),
      trainableParams: engine.trainableParameters,
      rows: data.train.rows,
      validationRows: data.validation.rows,
      batch: B,
      seqLen: T,
      objective: objective.type,
    });

    const validate = async () => {
      if (data.validation.rows === 0) return;
      const batches = evalBatches(data.validation, B, data.padId, reference?.validation);
      const { loss, metrics } = await engine.whileAlive(engine.evaluate(batches, objective));
      const tokenAccuracy = pairs ? undefined : await validationAccuracy(engine, batches);
      const point: LossAt = { step: engine.step, loss, ...(metrics ? { metrics } : {}), ...(tokenAccuracy !== undefined ? { tokenAccuracy } : {}) };
      history.validation.push(point);
      say({ kind: 'validation', ...point });
      if (tracker.observe(engine.step, loss)) {
        best = { step: engine.step, loss, state: await engine.whileAlive(engine.checkpoint()) };
        say({ kind: 'best', step: engine.step, loss });
      }
    };
    const checkpoint = async () => {
      last = await engine.whileAlive(engine.checkpoint());
      if (!opts.keepCheckpoint) return;
      await opts.keepCheckpoint(last, history);
      keptStep = last.step;
      say({ kind: 'checkpoint', step: last.step, savedAt: Date.now() });
    };

    if (!opts.resume) {
      if (data.validation.rows > 0) {
        const what = pairs ? `${data.validation.rows / 2} pairs` : `${data.validation.rows} rows`;
        say({ kind: 'stage', message: `Measuring the validation loss before training (${what})…` });
      }
      await validate();
      say({ kind: 'stage', message: 'Keeping the starting weights as the first checkpoint…' });
      await checkpoint(); // step 0: a lost device before the first interval resumes from here
    }
    say({ kind: 'stage', message: `Step ${engine.step + 1}: compiling the GPU programs for the backward pass and AdamW, then the first update…` });

    while (engine.step < steps) {
      if (opts.signal?.aborted) {
        await checkpoint();
        await finish();
        return result('stopped', `Stopped at step ${engine.step} of ${steps}.`);
      }
      const step = engine.step; // 0-based index of this step
      const lr = learningRateAt(config, steps, step);
      const t0 = performance.now();
      const batches = stepBatches(data.train, B, G, config.seed, step, reference?.train);
      const r = await engine.whileAlive(engine.trainStep(batches, lr));
      elapsedMs += performance.now() - t0;
      for (const b of batches) tokens += realTokens(b);
      if (r.nonfinite) {
        // AdamW skipped this update on the GPU; the weights may still be bad from earlier steps
        // (finite but huge), so go back to the last checkpoint, which was finite.
        const good = last!;
        engine.restore(good, config);
        const what = Number.isFinite(r.loss) ? `the gradients held NaN or Inf (loss ${r.loss.toFixed(4)})` : `the loss became ${r.loss}`;
        const message = `At step ${step + 1}, ${what}. Training stopped and the weights were restored from step ${good.step}. Lower the learning rate and train again.`;
        history.train = history.train.filter((p) => p.step <= good.step);
        history.validation = history.validation.filter((p) => p.step <= good.step);
        say({ kind: 'restored', step: good.step, reason: message });
        return result('diverged', message);
      }
      const done = engine.step;
      history.train.push(r.metrics ? { step: done, loss: r.loss, metrics: r.metrics } : { step: done, loss: r.loss });
      say({ kind: 'step', step: done, totalSteps: steps, loss: r.loss, lr, tokens, elapsedMs, ...(r.metrics ? { metrics: r.metrics } : {}) });
      if (debug.loseDeviceAfterStep === done) engine.gpu.device.destroy();
      const end = done === steps;
      if (done % config.eval_steps === 0 || end) await validate();
      if (tracker.shouldStop && !end) {
        await checkpoint();
        stoppedEarly = true;
        return result('finished', tracker.stopMessage);
      }
      if (done % every === 0 && !end) await checkpoint();
      if (opts.sample && done % opts.sample.every === 0 && !end) say({ kind: 'sample', step: done, text: await engine.whileAlive(opts.sample.generate(engine)) });
      if (debug.poisonAfterStep === done) engine.poison();
    }
    await checkpoint();
    await finish();
    return result('finished', `Trained ${engine.step} steps.`);
  } catch (err) {
    if (!(err instanceof DeviceLost) && !engine.lost) throw err;
    const why = engine.lost ?? (err as Error).message;
    const from = keptStep === null ? 'from the start' : `from its checkpoint at step ${keptStep}`;
    last = null;
    return { ...result('device-lost', `${why} Press Resume to continue ${from} on a new device.`), step: keptStep ?? 0 };
  } finally {
    if (!engine.lost) engine.endTraining();
  }
}

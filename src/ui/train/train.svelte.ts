// State of the training screen: one run at a time, driven in the worker. Keeps what the run is doing
// before its first step (compiling GPU programs, a first validation pass), the loss curves with a
// preference objective's metrics ($state.raw: they are replaced, never mutated), speed and time left, the last checkpoint, and how the
// run ended — with Resume when it can continue (after Pause, a NaN, a lost GPU device, or a reload of an
// unfinished run).

import type { TrainingPlan } from '../../lib/train/plan.ts';
import type { EngineClient, Task } from '../../lib/worker/client.ts';
import type { LossAt, RunDebug, RunStatus, TrainResult, TrainUpdate, WorkerEvent } from '../../lib/worker/protocol.ts';
import type { ObjectiveType } from '../../lib/train/objective.ts';
import { RunCurves } from './curves.svelte.ts';
import { indexedDbRuns, runName, unfinished, type EarlierRun, type KeptRuns } from './run.ts';
import { errorMessage } from '../format.ts';
import type { PackedRows } from '../../lib/data/pack.ts';
import { forgettingLine } from './forgetting.svelte.ts';

export type TrainPhase = 'idle' | 'starting' | 'training' | 'pausing' | RunStatus | 'error';

function newRunId(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `run-${Date.now().toString(36)}`;
}

export class TrainState extends RunCurves {
  phase = $state<TrainPhase>('idle');
  runId = $state<string | null>(null);
  runName = $state('');
  /** The plan of the current run, or of the earlier visit's run (its data included). */
  plan = $state.raw<TrainingPlan | null>(null);
  /** What the run is doing until its next step arrives, in words ('' once steps are coming). */
  /** Loss per step, with a preference objective's metrics (TRL's names) when the run has them. */
  /** The run's objective (the plan's; the worker's start event confirms it). */
  objective = $state<ObjectiveType>('sft');
  /** The saved adapter a fresh run continues (null: it starts from the method's initial weights). */
  fromAdapter = $state.raw<{ id: string; name: string } | null>(null);
  lr = $state(0);
  checkpointStep = $state<number | null>(null);
  checkpointAt = $state<number | null>(null);
  /** The latest validation token accuracy (TRL's mean_token_accuracy), null before one or for packed text. */
  tokenAccuracy = $state<number | null>(null);
  /** The lowest validation loss of this run so far: the weights the run keeps as its best. */
  best = $state.raw<LossAt | null>(null);
  /** The saved adapter holding those weights, "<name> (best, step N)", once the run has ended. */
  bestAdapterId = $state<string | null>(null);
  trainableParams = $state(0);
  shape = $state.raw<{ rows: number; validationRows: number; batch: number; seqLen: number } | null>(null);
  /** How the run ended, in words (or why it could not start). */
  message = $state('');
  error = $state<string | null>(null);
  /** The saved adapter holding this run's weights. */
  adapterId = $state<string | null>(null);
  /** The run an earlier visit left (finished or not); Resume is offered only when it is unfinished. */
  earlier = $state.raw<EarlierRun | null>(null);
  /** Every run kept in this browser, newest first (the newest few: store/checkpoints.ts). */
  kept = $state.raw<EarlierRun[]>([]);
  /** Counts finished runs (any outcome), so other screens can refresh their lists. */
  finishedRuns = $state(0);
  /** The general text's mean loss before and after this run (null until measured; ForgettingState turns it on). */
  generalBefore = $state<number | null>(null);
  generalAfter = $state<number | null>(null);
  /** The general text's rows for a fresh run of `plan` (packed at its sequence length), or null when not measured (TrainScreens sets it). */
  generalRows: ((plan: TrainingPlan) => Promise<PackedRows | null> | null) | null = null;

  private readonly client: EngineClient;
  /** Test hooks from the URL (?debug-lose-device=N, ?debug-nan-after=N), armed before each fresh run. */
  private readonly debug: RunDebug | null;
  private task: Task<TrainResult> | null = null;
  private readonly keptRuns: KeptRuns;

  constructor(client: EngineClient, debug: RunDebug | null = null, keptRuns: KeptRuns = indexedDbRuns) {
    super();
    this.client = client;
    this.debug = debug;
    this.keptRuns = keptRuns;
  }

  /**
   * Unfinished runs kept in this browser other than the current one and the one offered as the
   * earlier visit's: each can still be resumed (resumeRun) or forgotten (forget).
   */
  get otherRuns(): EarlierRun[] {
    return this.kept.filter((r) => unfinished(r) && r.runId !== this.runId && r.runId !== this.earlier?.runId);
  }

  get running(): boolean {
    return this.phase === 'starting' || this.phase === 'training' || this.phase === 'pausing';
  }

  /** While running: why the model may not change, with the run's step ("… (step 12 of 60)"); else null. */
  get modelLock(): string | null {
    if (!this.running) return null;
    return `a training run is using the model (${this.totalSteps ? `step ${this.step} of ${this.totalSteps}` : 'starting'})`;
  }

  /** "task loss 0.12 (was 5.6) · general text ppl 142 (was 90)" once the run has measured the general text after training ('' before). */
  get forgetting(): string {
    if (this.generalBefore === null || this.generalAfter === null) return '';
    const first = this.validation.at(0);
    const last = this.validation.at(-1);
    return forgettingLine(first && last ? { before: first.loss, after: last.loss } : null, { before: this.generalBefore, after: this.generalAfter });
  }

  /** Resume is possible: the run ended early and has a checkpoint (or an earlier visit left one unfinished). */
  get canResume(): boolean {
    if (this.running) return false;
    if (this.runId && this.checkpointStep !== null) return this.phase === 'stopped' || this.phase === 'diverged' || this.phase === 'device-lost';
    return this.phase === 'idle' && this.earlier !== null && unfinished(this.earlier);
  }

  /** Looks for the runs earlier visits left (IndexedDB survives reloads): the newest is offered first. */
  async findEarlier(): Promise<void> {
    await this.refreshKept();
    if (this.phase !== 'idle') return;
    const run = this.kept[0] ?? null;
    this.earlier = run;
    this.plan = run?.plan ?? null;
  }

  /** Reads the kept runs again (a run that ended has kept or replaced its checkpoint). */
  private async refreshKept(): Promise<void> {
    try {
      this.kept = await this.keptRuns.list();
    } catch {
      this.kept = []; // no IndexedDB: nothing to resume
    }
  }

  /** Resumes one of the kept runs (otherRuns), on the data and settings its checkpoint keeps. */
  resumeRun(run: EarlierRun): Promise<void> {
    if (this.running) return Promise.resolve();
    this.earlier = run;
    this.plan = run.plan;
    this.objective = run.plan.objective?.type ?? 'sft';
    this.fromAdapter = null; // the checkpoint keeps it, and the worker reads it again
    this.runId = null;
    this.checkpointStep = null;
    this.train = [];
    this.validation = [];
    this.resetBest();
    return this.resume();
  }

  /** Forgets a kept run's checkpoint. */
  async forget(run: EarlierRun): Promise<void> {
    await this.keptRuns.remove(run.runId);
    await this.refreshKept();
  }

  /** Starts a new run of `plan`, from a fresh adapter or continuing a saved one (`from`). */
  start(plan: TrainingPlan, from: { id: string; name: string } | null = null): Promise<void> {
    const runId = newRunId();
    this.runId = runId;
    this.runName = runName(plan);
    this.plan = plan;
    this.objective = plan.objective?.type ?? 'sft';
    this.fromAdapter = from ? { id: from.id, name: from.name } : null;
    this.adapterId = null;
    this.checkpointStep = null;
    this.checkpointAt = null;
    this.train = [];
    this.validation = [];
    this.resetBest();
    this.earlier = null;
    // The plan's arrays are copied by postMessage; the page keeps its own.
    return this.run({ runId, plan: $state.snapshot(plan) as TrainingPlan, resume: false, fromAdapterId: from?.id ?? null, general: this.generalRows?.(plan) ?? undefined });
  }

  /** Continues the current run (or an earlier visit's) from its last checkpoint. */
  resume(): Promise<void> {
    const runId = this.runId ?? this.earlier?.runId;
    if (!runId) return Promise.resolve();
    this.runId = runId;
    if (this.earlier) {
      this.runName = this.earlier.adapterName;
      this.objective = this.earlier.plan.objective?.type ?? 'sft';
    }
    this.earlier = null;
    return this.run({ runId, resume: true });
  }

  /** Asks the run to stop after the current step; it saves a checkpoint and its adapter first. */
  pause(): void {
    if (!this.task || !this.running) return;
    this.phase = 'pausing';
    this.task.cancel();
  }

  private async run(req: { runId: string; plan?: TrainingPlan; resume: boolean; fromAdapterId?: string | null; general?: Promise<PackedRows | null> }): Promise<void> {
    if (this.running) return;
    this.generalBefore = null;
    this.generalAfter = null;
    this.phase = 'starting';
    this.stage = req.resume ? 'Loading the checkpoint…' : 'Sending the plan to the worker…';
    this.error = null;
    this.message = '';
    this.meter = [];
    // Test hooks fire in a fresh run only, so Resume can show the recovery.
    if (this.debug && !req.resume) void this.client.request('debug', this.debug).result.catch(() => {});
    const general = req.general ? await req.general : null;
    const task = this.client.request(
      'train',
      { runId: req.runId, plan: req.plan, resume: req.resume, adapterName: this.runName || 'Trained adapter', fromAdapterId: req.fromAdapterId ?? null, general },
      (event: WorkerEvent) => {
        if (event.type === 'train' && task === this.task) this.apply(event.update);
      },
    );
    this.task = task;
    try {
      const result = await task.result;
      this.phase = result.status;
      this.message = result.message;
      this.step = result.step;
      this.adapterId = result.adapterId;
      this.checkpointStep = result.checkpointStep;
      this.bestAdapterId = result.bestAdapterId ?? null;
    } catch (err) {
      this.phase = 'error';
      this.error = errorMessage(err);
    } finally {
      if (this.task === task) this.task = null;
      this.stage = '';
      this.finishedRuns++;
      void this.refreshKept();
    }
  }

  private resetBest(): void {
    this.tokenAccuracy = null;
    this.best = null;
    this.bestAdapterId = null;
  }

  private apply(u: TrainUpdate): void {
    this.drawCurves(u);
    switch (u.kind) {
      case 'start':
        if (this.phase === 'starting') this.phase = 'training';
        this.trainableParams = u.trainableParams;
        this.shape = { rows: u.rows, validationRows: u.validationRows, batch: u.batch, seqLen: u.seqLen };
        this.objective = u.objective;
        break;
      case 'step':
        this.lr = u.lr;
        break;
      case 'validation':
        this.tokenAccuracy = u.tokenAccuracy ?? null;
        break;
      case 'best':
        this.best = { step: u.step, loss: u.loss };
        break;
      case 'general':
        if (u.before === null) this.generalBefore = u.loss;
        else {
          this.generalBefore = u.before;
          this.generalAfter = u.loss;
        }
        break;
      case 'checkpoint':
        this.checkpointStep = u.step;
        this.checkpointAt = u.savedAt;
        break;
    }
  }
}

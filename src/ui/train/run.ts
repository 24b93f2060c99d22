// Small facts about a run, apart from its state: the name its adapter gets, the run an earlier visit
// left in IndexedDB, and the test hooks a URL can switch on.

import { deleteCheckpoint, listCheckpoints, loadCheckpoint, type CheckpointRecord } from '../../lib/store/checkpoints.ts';
import type { TrainingPlan } from '../../lib/train/plan.ts';
import { GPU_FAULT_POINTS, type GpuFault, type GpuFaultPoint, type RunSetup, type TrainHistory } from '../../lib/worker/protocol.ts';

const OBJECTIVE_NAMES = { dpo: 'DPO', simpo: 'SimPO', orpo: 'ORPO', reward: 'reward model' } as const;

/** The default adapter name for a plan: method (and a preference objective) and dataset. */
export function runName(plan: TrainingPlan): string {
  const m = plan.method;
  const what =
    m.peft_type === 'LORA'
      ? `LoRA r${m.r}`
      : m.peft_type === 'BOTTLENECK'
        ? `Bottleneck ${m.bottleneck_size}`
        : m.peft_type === 'PREFIX_TUNING'
          ? `Prefix ${m.num_virtual_tokens}`
          : 'Full';
  const objective = plan.objective?.type ?? 'sft';
  return objective === 'sft' ? `${what} · ${plan.data.name}` : `${what} ${OBJECTIVE_NAMES[objective]} · ${plan.data.name}`;
}

/**
 * A step number from the URL, for recovery tests: ?debug-lose-device=N destroys the engine's GPU
 * device after training step N; ?debug-nan-after=N overwrites the trainable weights with NaN after it.
 */
export function debugStep(search: string, name: 'debug-lose-device' | 'debug-nan-after'): number | undefined {
  const v = new URLSearchParams(search).get(name);
  const n = v === null ? NaN : Number(v);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * GPU faults from the URL, for recovery tests: ?debug-gpu-fault=import:validation,generate:lose-device
 * makes the next adapter import fail with a GPU validation error and the next engine generation lose
 * its device (points: import, generate, evaluate, parity; how: validation, lose-device). Anything
 * else in the list is ignored.
 */
export function debugFaults(search: string): GpuFault[] {
  const v = new URLSearchParams(search).get('debug-gpu-fault');
  if (!v) return [];
  const out: GpuFault[] = [];
  for (const item of v.split(',')) {
    const [at, how] = item.trim().split(':');
    if ((GPU_FAULT_POINTS as readonly string[]).includes(at) && (how === 'validation' || how === 'lose-device')) out.push({ at: at as GpuFaultPoint, how });
  }
  return out;
}

/** A run an earlier visit kept in IndexedDB (its newest checkpoint), as the training screen offers it. */
export interface EarlierRun {
  runId: string;
  /** Steps done when the checkpoint was saved. */
  step: number;
  savedAt: number;
  /** What it trained on and how, the dataset's rows included: Resume and Compare need nothing else. */
  plan: TrainingPlan;
  adapterName: string;
  /** Trainable parameters of its method (absent in records of older versions). */
  trainableParams?: number;
  /** Validation loss at its first and latest validation (null without any). */
  taskLoss?: { before: number; after: number } | null;
  /** Mean loss on the general text before and after the run, when the run measured it. */
  generalLoss?: { before: number; after: number } | null;
}

/** The run a checkpoint record describes, or null when it holds no plan (a record from an older version). */
export function earlierRun(
  record: (Pick<CheckpointRecord<unknown, RunSetup, unknown>, 'runId' | 'step' | 'savedAt' | 'run'> & { history?: unknown }) | null,
): EarlierRun | null {
  const plan = record?.run?.plan;
  if (!record || !plan || !(plan.steps >= 1)) return null;
  const validation = (record.history as TrainHistory | undefined)?.validation ?? [];
  const first = validation.at(0);
  const last = validation.at(-1);
  return {
    runId: record.runId,
    step: record.step,
    savedAt: record.savedAt,
    plan,
    adapterName: record.run.adapterName,
    trainableParams: record.run.trainableParams,
    taskLoss: first && last ? { before: first.loss, after: last.loss } : null,
    generalLoss: record.run.generalLoss ?? null,
  };
}

/** Whether Resume has something to do: the run stopped before its last step. */
export function unfinished(run: EarlierRun): boolean {
  return run.step < run.plan.steps;
}

/** Where the runs earlier visits left are kept (IndexedDB), replaceable in tests. */
export interface KeptRuns {
  /** Every kept run, newest first. */
  list(): Promise<EarlierRun[]>;
  /** Forgets a run's checkpoint. */
  remove(runId: string): Promise<void>;
}

/** The runs kept in IndexedDB (store/checkpoints.ts keeps the newest few). */
export const indexedDbRuns: KeptRuns = {
  async list() {
    const runs: EarlierRun[] = [];
    for (const info of await listCheckpoints()) {
      const run = earlierRun(await loadCheckpoint<unknown, RunSetup, unknown>(info.runId));
      if (run) runs.push(run);
    }
    return runs;
  },
  remove: deleteCheckpoint,
};

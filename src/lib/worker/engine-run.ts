// What a training run needs besides the GPU, as plain functions (tested without one): the plan's
// hyper-parameters as the trainer's TrainConfig, which rows form each step's batch, evaluation
// batches with their weights, and how often to checkpoint. (The method's engine and PEFT configs come
// from train-plan.ts.)

import { permutation } from '../random.ts';
import { IGNORE_INDEX, type PackedRows } from '../data/pack.ts';
import type { TrainConfig } from '../train/config.ts';
import type { HyperParams } from '../train-plan.ts';

/** Checkpoints to IndexedDB: about ten per run, and at least every 25 steps. */
export function checkpointInterval(steps: number): number {
  return Math.min(25, Math.max(1, Math.ceil(steps / 10)));
}

/** The minimum learning rate the cosine schedule decays to, as a fraction of the peak (nanoGPT's 1/10). */
export const MIN_LR_FRACTION = 0.1;

/** The plan's hyper-parameters as the trainer's config: cosine decay to lr/10 after linear warm-up. */
export function trainConfigOf(hyper: HyperParams): TrainConfig {
  return {
    batchSize: hyper.batchSize,
    seqLen: hyper.seqLen,
    gradAccumSteps: 1,
    maxSteps: hyper.steps,
    learningRate: hyper.lr,
    minLearningRate: hyper.lr * MIN_LR_FRACTION,
    warmupSteps: Math.min(hyper.warmup, hyper.steps),
    schedule: 'cosine',
    beta1: hyper.beta1,
    beta2: hyper.beta2,
    eps: hyper.eps,
    weightDecay: hyper.weightDecay,
    gradClip: hyper.gradClip,
    seed: hyper.seed,
  };
}

/**
 * The rows of step `step`'s batch (0-based): the training rows are read epoch after epoch, each epoch
 * in its own seeded order, B at a time; a batch may span two epochs, and with fewer rows than B a row
 * appears more than once. Depends only on (rows, B, seed, step), so a resumed run sees exactly the
 * batches it would have seen without stopping.
 */
export function batchRows(rows: number, B: number, seed: number, step: number): number[] {
  if (rows < 1) throw new Error('there are no training rows');
  const out: number[] = [];
  let epoch = -1;
  let order: Int32Array | null = null;
  for (let j = 0; j < B; j++) {
    const k = step * B + j;
    const e = Math.floor(k / rows);
    if (e !== epoch) {
      epoch = e;
      order = permutation(rows, (seed ^ Math.imul(e + 1, 0x9e3779b1)) >>> 0);
    }
    out.push(order![k % rows]);
  }
  return out;
}

/** Gathers `picked` rows of packed data into one (B,T) batch. */
export function gatherRows(data: PackedRows, picked: number[]): { ids: Int32Array; targets: Int32Array } {
  const T = data.T;
  const ids = new Int32Array(picked.length * T);
  const targets = new Int32Array(picked.length * T);
  picked.forEach((r, b) => {
    ids.set(data.inputIds.subarray(r * T, (r + 1) * T), b * T);
    targets.set(data.targets.subarray(r * T, (r + 1) * T), b * T);
  });
  return { ids, targets };
}

/** An evaluation batch and the number of positions its loss counts. */
export interface EvalBatch {
  ids: Int32Array; // (B,T)
  targets: Int32Array; // (B,T)
  counted: number;
}

/**
 * The rows in order, B per batch; the last batch is filled with padding rows whose targets are all
 * ignored. Batches with nothing to count are left out. The mean loss over every counted position is
 * then Σ mean_b · counted_b / Σ counted_b (meanLoss).
 */
export function evalBatches(data: PackedRows, B: number, padId: number): EvalBatch[] {
  const T = data.T;
  const out: EvalBatch[] = [];
  for (let start = 0; start < data.rows; start += B) {
    const ids = new Int32Array(B * T).fill(padId);
    const targets = new Int32Array(B * T).fill(IGNORE_INDEX);
    const n = Math.min(B, data.rows - start);
    ids.set(data.inputIds.subarray(start * T, (start + n) * T));
    targets.set(data.targets.subarray(start * T, (start + n) * T));
    let counted = 0;
    for (let i = 0; i < n * T; i++) if (targets[i] !== IGNORE_INDEX) counted++;
    if (counted > 0) out.push({ ids, targets, counted });
  }
  return out;
}

/** Token-weighted mean of per-batch mean losses. */
export function meanLoss(parts: { loss: number; counted: number }[]): { loss: number; tokens: number } {
  let sum = 0;
  let tokens = 0;
  for (const p of parts) {
    sum += p.loss * p.counted;
    tokens += p.counted;
  }
  return { loss: tokens > 0 ? sum / tokens : NaN, tokens };
}

// Packed rows → the (B,T) batches a run feeds the engine: which rows form each training step's
// micro-batches (seeded, epoch after epoch, so a resumed run sees exactly the batches it would have
// seen without stopping), and evaluation batches that visit every row once.

import { permutation } from '../random.ts';
import { IGNORE_INDEX, type PackedRows } from './pack.ts';

/** One (B,T) batch: ids and targets (already shifted; IGNORE_INDEX where the loss does not count). */
export interface Batch {
  B: number;
  T: number;
  ids: Int32Array; // (B,T)
  targets: Int32Array; // (B,T)
  /** position of each token in its sequence; 0..T-1 in every row when absent */
  positions?: Int32Array; // (B,T)
}

/**
 * The rows of micro-batch `index` (0-based over the whole run): the training rows are read epoch
 * after epoch, each epoch in its own seeded order, B at a time; a batch may span two epochs, and with
 * fewer rows than B a row appears more than once. Depends only on (rows, B, seed, index).
 */
export function batchRows(rows: number, B: number, seed: number, index: number): number[] {
  if (rows < 1) throw new Error('there are no training rows');
  const out: number[] = [];
  let epoch = -1;
  let order: Int32Array | null = null;
  for (let j = 0; j < B; j++) {
    const k = index * B + j;
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
export function gatherRows(data: PackedRows, picked: number[]): Batch {
  const T = data.T;
  const ids = new Int32Array(picked.length * T);
  const targets = new Int32Array(picked.length * T);
  picked.forEach((r, b) => {
    ids.set(data.inputIds.subarray(r * T, (r + 1) * T), b * T);
    targets.set(data.targets.subarray(r * T, (r + 1) * T), b * T);
  });
  return { B: picked.length, T, ids, targets };
}

/** The micro-batches of optimizer step `step` (0-based): `accumulation` consecutive batches of B rows. */
export function stepBatches(data: PackedRows, B: number, accumulation: number, seed: number, step: number): Batch[] {
  return Array.from({ length: accumulation }, (_, j) => gatherRows(data, batchRows(data.rows, B, seed, step * accumulation + j)));
}

/**
 * The rows in order, B per batch; the last batch is filled with padding rows whose targets are all
 * ignored. Batches with nothing to count are left out.
 */
export function evalBatches(data: PackedRows, B: number, padId: number): Batch[] {
  const T = data.T;
  const out: Batch[] = [];
  for (let start = 0; start < data.rows; start += B) {
    const ids = new Int32Array(B * T).fill(padId);
    const targets = new Int32Array(B * T).fill(IGNORE_INDEX);
    const n = Math.min(B, data.rows - start);
    ids.set(data.inputIds.subarray(start * T, (start + n) * T));
    targets.set(data.targets.subarray(start * T, (start + n) * T));
    if (targets.some((t) => t !== IGNORE_INDEX)) out.push({ B, T, ids, targets });
  }
  return out;
}

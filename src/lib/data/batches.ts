// Packed rows → the (B,T) batches a run feeds the engine: which rows form each training step's
// micro-batches (seeded, epoch after epoch, so a resumed run sees exactly the batches it would have
// seen without stopping), and evaluation batches that visit every row once.
//
// Preference pairs (PackedRows.pairs) are drawn and batched as units: B is then a number of PAIRS, and a
// micro-batch holds 2B rows, pair i's chosen sequence in row 2i and its rejected one in row 2i+1, so
// chosen and rejected go through the model in one batch (TRL's concatenated forward, interleaved).
// A run's reference log-probabilities (one per packed row) travel with the rows they belong to.
//
// No compute on padding: a batch is cut to its longest row — up to the row's last counted target,
// the last position the loss depends on — rounded up to a bucket (powers of two from MIN_BUCKET up to
// the data's T), so a handful of shapes recur and their GPU buffers and bind groups are reused. The
// cut is exact: attention is causal, so the positions after a row's last counted target change
// nothing before them and add no loss (tests/gpu/train-trim.test.ts checks loss and gradients).

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
  /** preference objectives: each row's log π under the reference model (0 on padding rows) */
  reference?: Float32Array; // (B)
}

/** The shortest length a batch is cut to. */
export const MIN_BUCKET = 16;

/** Positions row r of (rows,T) targets needs: up to and including its last counted target (0 if none). */
function rowNeed(targets: Int32Array, r: number, T: number): number {
  for (let t = T - 1; t >= 0; t--) if (targets[r * T + t] !== IGNORE_INDEX) return t + 1;
  return 0;
}

/** The bucket holding `need` positions: the smallest power of two ≥ need and ≥ MIN_BUCKET, at most T. */
export function bucketLength(need: number, T: number): number {
  let b = MIN_BUCKET;
  while (b < need) b *= 2;
  return Math.min(b, T);
}

/** Positions the loss depends on in a batch: each row up to its last counted target (what tokens/s counts). */
export function realTokens(batch: Batch): number {
  let n = 0;
  for (let r = 0; r < batch.B; r++) n += rowNeed(batch.targets, r, batch.T);
  return n;
}

/** The first `T` positions of every row of a batch. */
function cut(batch: Batch, T: number): Batch {
  if (T === batch.T) return batch;
  const rows = (a: Int32Array) => {
    const out = new Int32Array(batch.B * T);
    for (let r = 0; r < batch.B; r++) out.set(a.subarray(r * batch.T, r * batch.T + T), r * T);
    return out;
  };
  const out: Batch = { ...batch, T, ids: rows(batch.ids), targets: rows(batch.targets) };
  if (batch.positions) out.positions = rows(batch.positions);
  return out;
}

/** Cuts batches to one common length: their longest row's need rounded up to a bucket (bucketLength). */
export function trimBatches(batches: Batch[]): Batch[] {
  const T = batches[0].T;
  let need = 0;
  for (const b of batches) {
    if (b.T !== T) throw new Error(`trimBatches: batches of ${b.T} and ${T} positions`);
    for (let r = 0; r < b.B; r++) need = Math.max(need, rowNeed(b.targets, r, T));
  }
  const cutTo = bucketLength(need, T);
  return batches.map((b) => cut(b, cutTo));
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

/** Gathers `picked` rows of packed data (and their reference log-probs, when given) into one (B,T) batch. */
export function gatherRows(data: PackedRows, picked: number[], reference?: Float32Array): Batch {
  const T = data.T;
  const ids = new Int32Array(picked.length * T);
  const targets = new Int32Array(picked.length * T);
  picked.forEach((r, b) => {
    ids.set(data.inputIds.subarray(r * T, (r + 1) * T), b * T);
    targets.set(data.targets.subarray(r * T, (r + 1) * T), b * T);
  });
  const batch: Batch = { B: picked.length, T, ids, targets };
  if (reference) batch.reference = Float32Array.from(picked, (r) => reference[r]);
  return batch;
}

/** What batches draw: rows, or pairs of rows. */
function unitsOf(data: PackedRows): number {
  if (data.pairs && data.rows % 2 !== 0) throw new Error(`preference rows come in pairs; ${data.rows} rows is not a whole number of pairs`);
  return data.pairs ? data.rows / 2 : data.rows;
}

/** Rows of the picked units: the rows themselves, or each pair's chosen and rejected row. */
const rowsOfUnits = (data: PackedRows, units: number[]) => (data.pairs ? units.flatMap((p) => [2 * p, 2 * p + 1]) : units);

function checkReference(data: PackedRows, reference: Float32Array | undefined): void {
  if (reference && reference.length !== data.rows) throw new Error(`${reference.length} reference log-probs for ${data.rows} rows`);
}

/**
 * The micro-batches of optimizer step `step` (0-based): `accumulation` consecutive batches of B rows
 * (B pairs, 2B rows, for preference pairs), with each row's reference log-prob when given, cut to
 * their longest row's bucket (trimBatches).
 */
export function stepBatches(data: PackedRows, B: number, accumulation: number, seed: number, step: number, reference?: Float32Array): Batch[] {
  checkReference(data, reference);
  const units = unitsOf(data);
  // Every micro-batch of a step has the same (B,T): they are cut together.
  return trimBatches(Array.from({ length: accumulation }, (_, j) => gatherRows(data, rowsOfUnits(data, batchRows(units, B, seed, step * accumulation + j)), reference)));
}

/**
 * The rows in order, R rows per batch (each cut to its longest row's bucket), the last batch filled
 * with padding rows whose targets are all ignored; every batch is kept, so row i of the data is row i of the batches' concatenation (what a
 * per-row pass such as the reference log-probs needs).
 */
export function rowBatches(data: PackedRows, R: number, padId: number, reference?: Float32Array): Batch[] {
  checkReference(data, reference);
  const T = data.T;
  const out: Batch[] = [];
  for (let start = 0; start < data.rows; start += R) {
    const ids = new Int32Array(R * T).fill(padId);
    const targets = new Int32Array(R * T).fill(IGNORE_INDEX);
    const n = Math.min(R, data.rows - start);
    ids.set(data.inputIds.subarray(start * T, (start + n) * T));
    targets.set(data.targets.subarray(start * T, (start + n) * T));
    const batch: Batch = { B: R, T, ids, targets };
    if (reference) {
      batch.reference = new Float32Array(R);
      batch.reference.set(reference.subarray(start, start + n));
    }
    out.push(trimBatches([batch])[0]);
  }
  return out;
}

/**
 * The rows in order, B per batch (B pairs, 2B rows, for preference pairs); the last batch is filled
 * with padding rows whose targets are all ignored (a padding pair counts nothing, so the preference
 * loss leaves it out). Batches with nothing to count are left out.
 */
export function evalBatches(data: PackedRows, B: number, padId: number, reference?: Float32Array): Batch[] {
  unitsOf(data);
  const batches = rowBatches(data, data.pairs ? 2 * B : B, padId, reference);
  return batches.filter((b) => b.targets.some((t) => t !== IGNORE_INDEX));
}

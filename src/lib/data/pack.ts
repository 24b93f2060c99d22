// Tokenized examples → rows of T positions → (B,T) batches, with the loss convention of
// tests/fixtures/README.md: targets[b,t] is the token position t must predict (input_ids[b,t+1] of
// the packed stream), or -100 where the loss does not count. A target counts only if the token it
// names is trainable.
//
// Two ways to pack:
//   'pad'     one example per row (the default for supervised data). An example of L tokens fills
//             input positions 0..L-1 and its targets 0..L-2; the rest of the row is padding with
//             target -100. An example longer than T+1 tokens is truncated (a warning says so).
//   'concat'  examples joined end to end (each already ends with EOS) and cut into rows; row k covers
//             stream tokens kT..kT+T, so every token after the first is predicted exactly once and
//             nothing is truncated. Attention crosses example boundaries, as in nanoGPT's pretraining
//             and TRL's packing. The default for {text} data.
//
// Preference pairs (tokenized as chosen, rejected in a row: TokenizedExample.pair) pack 'pad' only, two
// rows per pair: row 2i is pair i's chosen sequence and row 2i+1 its rejected one, both T long. A
// pair is kept or left out as a unit: each sequence is truncated like any 'pad' example, and a pair
// one of whose completions has nothing counted left is not used.

import type { DatasetFormat } from './formats';
import { type DataProblem, formatCount, type Where } from './problems';
import type { TokenizedExample } from './tokenize';
import { IGNORE_INDEX } from '../ops/crossentropy/reference.ts';

export { IGNORE_INDEX };

export type PackMode = 'pad' | 'concat';

/** 'concat' for plain text, 'pad' for everything with a prompt. */
export function defaultPackMode(format: DatasetFormat | null): PackMode {
  return format === 'text' ? 'concat' : 'pad';
}

export interface PackOptions {
  /** T: positions per row. */
  seqLen: number;
  mode: PackMode;
  /** Token id for unused input positions. */
  padId: number;
}

export interface PackedRows {
  T: number;
  rows: number;
  inputIds: Int32Array; // (rows,T)
  targets: Int32Array; // (rows,T)
  /** Positions whose loss counts, per row. */
  countedPerRow: Int32Array; // (rows)
  countedTokens: number;
  /** Truncation warnings and examples left out because nothing in them counts. */
  warnings: DataProblem[];
  /**
   * The examples packed into no row ('pad' mode: nothing the loss counts is left in them after
   * truncation); 'concat' keeps every example. With `warnings`, says exactly which examples a run uses.
   */
  leftOut: Where[];
  /** Preference pairs: row 2i is pair i's chosen sequence, row 2i+1 its rejected one (absent: plain rows). */
  pairs?: boolean;
}

export function packExamples(examples: TokenizedExample[], opts: PackOptions): PackedRows {
  const T = opts.seqLen;
  if (!Number.isInteger(T) || T < 1) throw new Error(`seqLen must be a positive integer, got ${T}`);
  const warnings: DataProblem[] = [];
  const leftOut: Where[] = [];
  const rowsIds: Int32Array[] = [];
  const rowsTargets: Int32Array[] = [];

  const newRow = () => {
    const ids = new Int32Array(T).fill(opts.padId);
    const tg = new Int32Array(T).fill(IGNORE_INDEX);
    rowsIds.push(ids);
    rowsTargets.push(tg);
    return { ids, tg };
  };

  const pairs = examples.length > 0 && examples[0].pair !== undefined;
  if (pairs) {
    if (opts.mode !== 'pad') throw new Error("preference pairs pack one sequence per row ('pad'), never joined ('concat')");
    for (let i = 0; i < examples.length; i += 2) {
      const [c, r] = [examples[i], examples[i + 1]];
      if (c.pair !== 'chosen' || r?.pair !== 'rejected') throw new Error(`packExamples: example ${i} and ${i + 1} are not a (chosen, rejected) pair`);
      const fits = [padFit(c, T), padFit(r, T)];
      fits.forEach((f, k) => {
        if (f.warning) warnings.push({ where: c.where, message: `${k === 0 ? 'chosen' : 'rejected'} sequence ${f.warning}`, severity: 'warning' });
      });
      const empty = fits.findIndex((f) => f.counted === 0);
      if (empty >= 0) {
        if (!fits[empty].warning) {
          warnings.push({ where: c.where, message: `no token of the ${empty === 0 ? 'chosen' : 'rejected'} completion is counted by the loss; the pair is not used`, severity: 'warning' });
        } else warnings.push({ where: c.where, message: 'the pair is not used', severity: 'warning' });
        leftOut.push(c.where);
        continue;
      }
      for (const ex of [c, r]) fillPadRow(newRow(), ex, T);
    }
  } else if (opts.mode === 'pad') {
    for (const ex of examples) {
      const fit = padFit(ex, T);
      if (fit.warning) warnings.push({ where: ex.where, message: fit.warning, severity: 'warning' });
      if (fit.counted === 0) {
        if (!fit.warning) warnings.push({ where: ex.where, message: 'no token of this example is counted by the loss; it is not used', severity: 'warning' });
        leftOut.push(ex.where);
        continue;
      }
      fillPadRow(newRow(), ex, T);
    }
  } else {
    let total = 0;
    for (const ex of examples) total += ex.ids.length;
    const stream = new Int32Array(total);
    const flags = new Uint8Array(total);
    let p = 0;
    for (const ex of examples) {
      stream.set(ex.ids, p);
      flags.set(ex.trainable, p);
      p += ex.ids.length;
    }
    // Row k: inputs stream[kT .. kT+T), targets stream[kT+1 .. kT+T+1).
    for (let start = 0; start + 1 < total; start += T) {
      const { ids, tg } = newRow();
      const n = Math.min(T, total - start);
      ids.set(stream.subarray(start, start + n));
      for (let t = 0; t < n && start + t + 1 < total; t++) {
        if (flags[start + t + 1]) tg[t] = stream[start + t + 1];
      }
    }
    // Rows whose targets are all -100 (possible with masked data) add nothing.
    for (let r = rowsIds.length - 1; r >= 0; r--) {
      if (rowsTargets[r].every((x) => x === IGNORE_INDEX)) {
        rowsIds.splice(r, 1);
        rowsTargets.splice(r, 1);
      }
    }
  }

  const rows = rowsIds.length;
  const inputIds = new Int32Array(rows * T);
  const targets = new Int32Array(rows * T);
  const countedPerRow = new Int32Array(rows);
  let countedTokens = 0;
  for (let r = 0; r < rows; r++) {
    inputIds.set(rowsIds[r], r * T);
    targets.set(rowsTargets[r], r * T);
    let c = 0;
    for (let t = 0; t < T; t++) if (rowsTargets[r][t] !== IGNORE_INDEX) c++;
    countedPerRow[r] = c;
    countedTokens += c;
  }
  return { T, rows, inputIds, targets, countedPerRow, countedTokens, warnings, leftOut, ...(pairs ? { pairs: true } : {}) };
}

/**
 * How an example fits a 'pad' row: the targets it keeps count `counted` tokens; `warning` says how it
 * is truncated when it is longer than the T+1 tokens a row holds.
 */
function padFit(ex: TokenizedExample, T: number): { counted: number; warning: string | null } {
  const L = ex.ids.length;
  const kept = Math.min(L, T + 1);
  let counted = 0;
  for (let j = 1; j < kept; j++) counted += ex.trainable[j];
  if (L <= T + 1) return { counted, warning: null };
  let cutTrainable = 0;
  for (let j = T + 1; j < L; j++) cutTrainable += ex.trainable[j];
  const nothingLeft = counted === 0 && cutTrainable > 0;
  const warning =
    `truncated: ${formatCount(L)} tokens, longer than the ${formatCount(T + 1)} a training row holds (T+1); ` +
    `the last ${formatCount(L - T - 1)} tokens are cut, ${formatCount(cutTrainable)} of them counted by the loss` +
    (nothingLeft ? '; nothing the loss counts is left, so this example is not used' : '');
  return { counted, warning };
}

/** Writes an example into a 'pad' row: ids in 0..min(L,T)-1, targets where the next token counts. */
function fillPadRow(row: { ids: Int32Array; tg: Int32Array }, ex: TokenizedExample, T: number): void {
  const L = ex.ids.length;
  const kept = Math.min(L, T + 1);
  for (let t = 0; t < Math.min(L, T); t++) row.ids[t] = ex.ids[t];
  for (let t = 0; t + 1 < kept; t++) if (ex.trainable[t + 1]) row.tg[t] = ex.ids[t + 1];
}

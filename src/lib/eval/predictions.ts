// An evaluation's table as data: one column per model evaluated (the base, each adapter, the base with
// k shots), the rows in the test set's order; and predictions.jsonl, one JSON line per example and
// column under the names TRL / evaluate use. The command line writes it to a file, the page offers it
// as a download: the same lines.

import type { EvalOutcome, EvalRow } from './evaluate.ts';

export interface EvalColumn extends EvalOutcome {
  /** "base", the adapter's name, or "3-shot base" */
  name: string;
  /** the adapter evaluated (the command line: its path; the page: its name); null for the base */
  adapter: string | null;
  /** shots asked for (rows say how many were shown) */
  shots: number;
  /** the packed held-out loss (rows of --seq-len, as validation in training); null where not measured */
  heldOut: { loss: number; tokens: number } | null;
}

/** Column names, made unique ("a", "a (2)") when two adapters share a name. */
export function columnName(wanted: string, taken: readonly string[]): string {
  if (!taken.includes(wanted)) return wanted;
  let i = 2;
  while (taken.includes(`${wanted} (${i})`)) i++;
  return `${wanted} (${i})`;
}

/** A row's numbers under the JSON names TRL / evaluate use (snake case). */
export function rowScores(r: EvalRow) {
  return {
    prediction: r.prediction,
    shots: r.shots,
    loss: r.loss,
    perplexity: r.perplexity,
    tokens: r.tokens,
    token_accuracy: r.tokenAccuracy,
    exact_match: r.exactMatch,
    rouge_l: r.rougeL,
    chrf: r.chrF,
  };
}

/** predictions.jsonl's lines: per example, one per column; numbers that are not finite as null. */
export function predictionLines(columns: readonly EvalColumn[]): string[] {
  const lines: string[] = [];
  if (!columns.length) return lines;
  for (const [i, row] of columns[0].rows.entries()) {
    for (const c of columns) {
      const r = c.rows[i];
      lines.push(
        JSON.stringify(
          { index: i, file: row.where.file, line: row.where.line, column: c.name, adapter: c.adapter, prompt: r.prompt, reference: r.reference, ...rowScores(r) },
          (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
        ),
      );
    }
  }
  return lines;
}

// The per-example table of `lora-playground eval`: one column per model evaluated (the base, each
// adapter, the base with k shots), the rows in the data file's order, totals with their counts; as
// words for a person, as JSON for a script, and as predictions.jsonl (one line per example and column).

import { rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { EvalTotals } from '../lib/eval/metrics.ts';
import { columnName, type EvalColumn, predictionLines, rowScores as scores } from '../lib/eval/predictions.ts';
import { InputError } from './model.ts';

export type { EvalColumn };
export { columnName };

/** The table as the JSON result holds it: columns with totals, then per example every column's scores. */
export function tableJson(columns: readonly EvalColumn[]) {
  const first = columns[0];
  return {
    columns: columns.map((c) => ({ name: c.name, adapter: c.adapter, shots: c.shots, totals: c.totals, tokensPerSecond: c.tokensPerSecond, heldOut: c.heldOut })),
    perExample: first.rows.map((row, i) => ({
      index: i,
      file: row.where.file,
      line: row.where.line,
      prompt: row.prompt,
      reference: row.reference,
      columns: Object.fromEntries(columns.map((c) => [c.name, { ...scores(c.rows[i]), prompt: c.rows[i].prompt }])),
    })),
  };
}

const f = (x: number | null, digits: number) => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(digits));
const pad = (s: string, n: number) => (s.length >= n ? s + ' ' : s + ' '.repeat(n - s.length));
const cut = (s: string | null, n: number) => {
  const one = (s ?? '—').replace(/\s+/g, ' ').trim();
  return one.length > n ? one.slice(0, n - 1) + '…' : one;
};

/** Totals for a person: one line per column. */
export function totalsLines(columns: readonly EvalColumn[]): string[] {
  const w = Math.max(8, ...columns.map((c) => c.name.length + 2));
  const head = pad('', w) + 'loss    ppl      tok_acc  exact  rougeL  chrF   tok/s   (examples, tokens, scored)';
  return [
    head,
    ...columns.map((c) => {
      const t: EvalTotals = c.totals;
      return (
        pad(c.name, w) +
        [pad(f(t.loss, 4), 8), pad(f(t.perplexity, 2), 9), pad(f(t.tokenAccuracy, 3), 9), pad(f(t.exactMatch, 3), 7), pad(f(t.rougeL, 3), 8), pad(f(t.chrF, 1), 7), pad(f(c.tokensPerSecond, 0), 8)].join('') +
        `(${t.examples}, ${t.tokens}, ${t.scored})`
      );
    }),
  ];
}

/**
 * Rows for a person: each example's line, then per column its loss, chrF and greedy output; Δloss is
 * the column's loss minus the first column's (the base when it is evaluated).
 */
export function rowLines(columns: readonly EvalColumn[]): string[] {
  const w = Math.max(8, ...columns.map((c) => c.name.length + 2));
  const lines: string[] = [];
  const first = columns[0];
  first.rows.forEach((row, i) => {
    lines.push(`#${i + 1} ${row.where.file}:${row.where.line}  ${cut(row.prompt, 60)}  →  ${cut(row.reference, 40)}`);
    for (const c of columns) {
      const r = c.rows[i];
      const delta = c === first ? '' : `Δloss ${r.loss - row.loss >= 0 ? '+' : ''}${f(r.loss - row.loss, 3)}  `;
      lines.push(`    ${pad(c.name, w)}loss ${f(r.loss, 3)}  ${delta}tok_acc ${f(r.tokenAccuracy, 2)}  chrF ${f(r.chrF, 1)}  ${cut(r.prediction, 50)}`);
    }
  });
  return lines;
}

/** Checks (before anything slow) that --out names a new file in an existing folder; returns it absolute. */
export async function checkPredictionsPath(path: string): Promise<string> {
  const abs = resolve(path);
  if (await stat(abs).catch(() => null)) throw new InputError(`--out ${path} already exists: give a new file name (nothing is overwritten)`);
  const dir = await stat(dirname(abs)).catch(() => null);
  if (!dir?.isDirectory()) throw new InputError(`--out ${path}: the folder ${dirname(path)} does not exist`);
  return abs;
}

/**
 * Writes predictions.jsonl to `path` whole or not at all (a temporary file renamed into place); an
 * existing file is never replaced.
 */
export async function writePredictions(path: string, columns: readonly EvalColumn[]): Promise<string> {
  const abs = await checkPredictionsPath(path);
  const lines = predictionLines(columns);
  const tmp = join(dirname(abs), `.${basename(abs)}.${process.pid}.tmp`);
  await writeFile(tmp, lines.join('\n') + '\n');
  await rename(tmp, abs);
  return abs;
}

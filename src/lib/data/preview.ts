// What the UI shows before training: how many examples, how long they are (a histogram of tokens per
// example), which will be truncated, and for any example the tokens with the ones the loss counts marked.

import type { TextTokenizer, TokenizedExample } from './tokenize';
import { defaultPackMode, packExamples, type PackMode } from './pack';
import type { DataProblem } from './problems';

export interface Histogram {
  /** Bin i holds lengths in [edges[i], edges[i+1]); the last bin also holds edges[bins]. */
  edges: number[];
  counts: number[];
  min: number;
  max: number;
  mean: number;
  median: number;
  total: number;
}

/** Rounds a positive step up to 1, 2 or 5 × 10^k, so bin edges read well. */
function niceStep(raw: number): number {
  if (raw <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** A histogram of tokens per example with at most `maxBins` bins of a round width. */
export function tokenHistogram(lengths: ArrayLike<number>, maxBins = 12): Histogram {
  const n = lengths.length;
  if (n === 0) return { edges: [], counts: [], min: 0, max: 0, mean: 0, median: 0, total: 0 };
  const sorted = Array.from(lengths).sort((a, b) => a - b);
  const min = sorted[0];
  const max = sorted[n - 1];
  const total = sorted.reduce((s, x) => s + x, 0);
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  // Bins start at a multiple of the step, which can add a bin: widen the step until they fit.
  let step = niceStep((max - min + 1) / maxBins);
  let lo = Math.floor(min / step) * step;
  let bins = Math.max(1, Math.ceil((max + 1 - lo) / step));
  while (bins > maxBins) {
    step = niceStep(step + 1);
    lo = Math.floor(min / step) * step;
    bins = Math.max(1, Math.ceil((max + 1 - lo) / step));
  }
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * step);
  const counts = new Array<number>(bins).fill(0);
  for (const x of sorted) counts[Math.min(bins - 1, Math.floor((x - lo) / step))]++;
  return { edges, counts, min, max, mean: total / n, median, total };
}

export interface TokenView {
  id: number;
  /** The token's text (special tokens included; may be part of a multi-byte character). */
  text: string;
  /** Whether predicting this token counts in the loss. */
  counted: boolean;
  /** Whether it falls past the training row and is cut (pad packing only). */
  truncated: boolean;
}

/** The tokens of one example, each with its text and whether the loss counts it. */
export function tokenView(ex: TokenizedExample, tok: TextTokenizer, seqLen?: number): TokenView[] {
  const out: TokenView[] = [];
  for (let j = 0; j < ex.ids.length; j++) {
    const truncated = seqLen !== undefined && j > seqLen;
    // The first token is never predicted (nothing comes before it).
    out.push({ id: ex.ids[j], text: tok.decode([ex.ids[j]]), counted: j > 0 && ex.trainable[j] === 1 && !truncated, truncated });
  }
  return out;
}

export interface DatasetPreview {
  examples: number;
  /** Tokens per example. */
  lengths: Int32Array;
  histogram: Histogram;
  /** Tokens the loss counts, over all examples (before truncation). */
  trainableTokens: number;
  totalTokens: number;
  packMode: PackMode;
  /** Training rows of T positions after packing, and the tokens they count. */
  rows: number;
  countedTokens: number;
  /** Truncation warnings (pad packing) and unusable examples. */
  warnings: DataProblem[];
}

export function previewTokenized(
  examples: TokenizedExample[],
  opts: { seqLen: number; padId: number; mode?: PackMode; format?: Parameters<typeof defaultPackMode>[0] },
): DatasetPreview {
  const lengths = Int32Array.from(examples, (e) => e.ids.length);
  let trainable = 0;
  let total = 0;
  for (const e of examples) {
    total += e.ids.length;
    for (let j = 1; j < e.trainable.length; j++) trainable += e.trainable[j];
  }
  const mode = opts.mode ?? defaultPackMode(opts.format ?? null);
  const packed = packExamples(examples, { seqLen: opts.seqLen, mode, padId: opts.padId });
  return {
    examples: examples.length,
    lengths,
    histogram: tokenHistogram(lengths),
    trainableTokens: trainable,
    totalTokens: total,
    packMode: mode,
    rows: packed.rows,
    countedTokens: packed.countedTokens,
    warnings: packed.warnings,
  };
}

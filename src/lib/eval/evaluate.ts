// Evaluates prepared examples (items.ts) with whatever the engine has attached (the bare base when
// nothing is): per example, one forward pass for the teacher-forced numbers (loss, perplexity, token
// accuracy) and greedy generation from its prompt for the text scores (exact match, ROUGE-L, chrF).
// The page's worker and the command line both call this; only the text decoder is passed in.

import type { Engine } from '../engine.ts';
import type { Where } from '../data/problems.ts';
import type { EvalItem } from './items.ts';
import { exampleScores, scoreTokens, totals, type EvalTotals, type ExampleScores } from './metrics.ts';

/** Sequences are padded to a multiple of this, so a few activation sets serve every length (as generation's prefill). */
const LENGTH_BUCKET = 16;

export interface EvalRow extends ExampleScores {
  /** position in the evaluated list */
  index: number;
  where: Where;
  prompt: string | null;
  reference: string | null;
  /** greedy output, special tokens removed; null for plain text or without generation */
  prediction: string | null;
  /** shots shown before the prompt */
  shots: number;
}

export interface EvalOutcome {
  rows: EvalRow[];
  totals: EvalTotals;
  /** decoding speed over all generations (tokens after each first, per second); null without generation */
  tokensPerSecond: number | null;
}

export interface EvaluateOptions {
  /** ids → text, special tokens removed (the tokenizer's decode) */
  decode: (ids: number[]) => string;
  /** new tokens per greedy generation; 0 skips generation (and the text scores) */
  maxNewTokens: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Evaluates every item in order; stops with the signal's reason when aborted. */
export async function evaluateItems(engine: Engine, items: readonly EvalItem[], opts: EvaluateOptions): Promise<EvalOutcome> {
  const V = engine.config.vocabSize;
  const maxT = engine.config.maxPositions;
  const rows: EvalRow[] = [];
  let decodedTokens = 0;
  let decodeMs = 0;
  let generated = 0;
  for (const [index, item] of items.entries()) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new DOMException('aborted', 'AbortError');
    const n = item.ids.length;
    // Padding after the sequence cannot change its logits (causal attention); its rows are not read.
    const T = Math.min(Math.ceil(n / LENGTH_BUCKET) * LENGTH_BUCKET, maxT);
    const ids = new Int32Array(T);
    ids.set(item.ids);
    const logits = await engine.whileAlive(engine.logits(ids, 1, T));
    const scores = scoreTokens(logits.subarray(0, n * V), V, item.targets);

    let prediction: string | null = null;
    if (item.promptIds && item.reference !== null && opts.maxNewTokens > 0) {
      const r = await engine.generateText(
        { rendered: item.prompt ?? '', ids: item.promptIds },
        { maxNewTokens: opts.maxNewTokens, signal: opts.signal },
        opts.decode,
        () => {},
      );
      prediction = r.text;
      generated++;
      if (r.tokenIds.length > 1) {
        decodedTokens += r.tokenIds.length - 1;
        decodeMs += r.decodeMs;
      }
    }
    const text = prediction !== null && item.reference !== null ? { prediction, reference: item.reference } : null;
    rows.push({ index, where: item.where, prompt: item.prompt, reference: item.reference, prediction, shots: item.shots, ...exampleScores(scores, text) });
    opts.onProgress?.(index + 1, items.length);
  }
  return {
    rows,
    totals: totals(rows),
    tokensPerSecond: generated && decodeMs > 0 ? (decodedTokens * 1000) / decodeMs : null,
  };
}

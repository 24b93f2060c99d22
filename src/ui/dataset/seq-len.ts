// A max sequence length that fits the data, suggested when a dataset is prepared: the longest example
// rounded up to a power of two. One example per row ('pad' packing) puts an example of L tokens in
// L − 1 positions (inputs are its tokens 0..L−2, targets 1..L−1), so T = L − 1 holds it whole. Packed
// text ('pack') is cut into rows whatever T is: no suggestion there.

import type { PreparedData } from '../../lib/data';

/** The smallest max sequence length the method panel accepts (train/checks.ts). */
export const MIN_SEQ_LEN = 8;

export interface LengthSuggestion {
  /** Tokens of the longest example, train and validation together. */
  longest: number;
  /** A power of two that holds it (at least MIN_SEQ_LEN, at most the model's limit). */
  suggested: number;
  /** The model's limit cut the suggestion short: the longest examples will be truncated anyway. */
  capped: boolean;
}

/** The suggestion for examples of these lengths (tokens each), or null when there are none. */
export function suggestSeqLen(lengths: ArrayLike<number>, maxPositions: number): LengthSuggestion | null {
  let longest = 0;
  for (let i = 0; i < lengths.length; i++) longest = Math.max(longest, lengths[i]);
  if (longest === 0) return null;
  const need = longest - 1;
  let T = MIN_SEQ_LEN;
  while (T < need) T *= 2;
  return { longest, suggested: Math.min(T, maxPositions), capped: T > maxPositions };
}

/** The suggestion for a prepared dataset ('pad' packing only), or null. */
export function suggestForPrepared(p: PreparedData | null, maxPositions: number): LengthSuggestion | null {
  if (!p || p.packMode !== 'pad') return null;
  const lengths = [...p.train.preview.lengths, ...(p.validation?.preview.lengths ?? [])];
  return suggestSeqLen(lengths, maxPositions);
}

/** "longest example: 23 tokens — 32 is enough". */
export function suggestionWords(s: LengthSuggestion): string {
  return s.capped
    ? `longest example: ${s.longest} tokens — more than the model’s limit of ${s.suggested} positions`
    : `longest example: ${s.longest} tokens — ${s.suggested} is enough`;
}

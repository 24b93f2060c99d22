// The general text a run's forgetting is measured on: plain prose (the built-in Brown slice for the
// shipped model, or a text the user gives) split into paragraphs as a .txt dataset is, tokenized
// with an end-of-text after each, and packed end to end into rows of T positions where every token
// counts. Its perplexity before and after training (run.ts) says how much of the general language
// the run kept.

import { packExamples, type PackedRows } from '../data/pack.ts';
import { tokenizeSegments, type TextTokenizer } from '../data/tokenize.ts';

/** Tokens measured by default: a perplexity steady to a few per cent, for a few forward passes (SwiftShader included). */
export const GENERAL_TOKENS = 4096;

/** Where the built-in held-out Brown slice is served from (static/) and kept in the repository. */
export const BROWN_HELDOUT_PATH = 'corpus/brown-heldout.txt';

/** The text packed into rows of `T`, at most `maxTokens` positions (whole rows). */
export function generalTextRows(text: string, tok: TextTokenizer, T: number, maxTokens = GENERAL_TOKENS): PackedRows {
  const paragraphs = text.split(/\n\s*\n/).map((p) => p.trim()).filter((p) => p.length > 0);
  if (paragraphs.length === 0) throw new Error('the general text is empty');
  const examples = [];
  let tokens = 0;
  for (let i = 0; i < paragraphs.length && tokens < maxTokens + T; i++) {
    const ex = tokenizeSegments([{ text: paragraphs[i], trainable: true }], tok, { prependBos: false, appendEos: true }, { file: 'general text', unit: 'paragraph', index: i + 1, line: 0 });
    examples.push(ex);
    tokens += ex.ids.length;
  }
  const packed = packExamples(examples, { seqLen: T, mode: 'concat', padId: tok.padId });
  const keep = Math.max(1, Math.min(packed.rows, Math.floor(maxTokens / T)));
  const counted = packed.countedPerRow.slice(0, keep);
  return {
    ...packed,
    rows: keep,
    inputIds: packed.inputIds.slice(0, keep * T),
    targets: packed.targets.slice(0, keep * T),
    countedPerRow: counted,
    countedTokens: counted.reduce((a, b) => a + b, 0),
  };
}

/** Perplexity from a mean cross-entropy in nats. */
export const perplexity = (loss: number): number => Math.exp(loss);

// Segments → token ids with a per-token loss flag.
//
// Each segment is tokenized on its own and the ids are joined. That puts a token boundary at every
// segment boundary, which is what generation sees too: the prompt is tokenized alone and the model
// continues from its last token. (Tokenizing the joined text could merge the prompt's last characters
// with the completion's first into one token that the model never meets at generation time.)

import { yieldToEventLoop } from './decode';
import type { Example } from './formats';
import type { DataProblem, Where } from './problems';
import { type RenderContext, renderExample, renderPreference, type Segment } from './templates';

/** What the data layer needs from a tokenizer. */
export interface TextTokenizer {
  /** Ids for `text` without any special tokens added (special tokens written in the text are kept). */
  encode(text: string): number[];
  /** Text for ids, special tokens included. */
  decode(ids: number[]): string;
  /** Ids the tokenizer adds before a text when asked for special tokens (e.g. [BOS]); often []. */
  bosIds: number[];
  /** The end-of-sequence id appended after text / completions, or null if the tokenizer has none. */
  eosId: number | null;
  /** Fills unused input positions (their targets are -100, so its value never matters to the loss). */
  padId: number;
}

/** The part of a transformers.js PreTrainedTokenizer this file uses. */
export interface TransformersTokenizerLike {
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
  decode(ids: number[], options?: { skip_special_tokens?: boolean; clean_up_tokenization_spaces?: boolean }): string;
  eos_token_id?: number | null;
  pad_token_id?: number | null;
  bos_token_id?: number | null;
}

/**
 * Wraps a transformers.js tokenizer. The BOS ids are found by comparing `encode(x)` with and without
 * special tokens, so a tokenizer that adds no BOS (like the default model's) gets none.
 */
export function fromTransformersTokenizer(tok: TransformersTokenizerLike): TextTokenizer {
  const probe = 'a';
  const plain = tok.encode(probe, { add_special_tokens: false });
  const special = tok.encode(probe, { add_special_tokens: true });
  let k = 0;
  // The prefix the tokenizer adds is whatever comes before the plain ids.
  while (k + plain.length <= special.length && !plain.every((id, j) => special[k + j] === id)) k++;
  const bosIds = k + plain.length <= special.length ? special.slice(0, k) : [];
  const eosId = tok.eos_token_id ?? null;
  return {
    encode: (text) => tok.encode(text, { add_special_tokens: false }),
    decode: (ids) => tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }),
    bosIds,
    eosId,
    padId: tok.pad_token_id ?? eosId ?? 0,
  };
}

export interface TokenizedExample {
  where: Where;
  /** A preference pair gives two: its chosen sequence, then its rejected one (pack.ts keeps them together). */
  pair?: 'chosen' | 'rejected';
  ids: Int32Array;
  /** 1 where predicting this token counts in the loss, 0 where it does not. Same length as ids. */
  trainable: Uint8Array;
}

/** Tokenizes segments into ids and the per-token loss flag. */
export function tokenizeSegments(
  segments: Segment[],
  tok: TextTokenizer,
  opts: { prependBos: boolean; appendEos: boolean },
  where: Where,
): TokenizedExample {
  const ids: number[] = [];
  const flags: number[] = [];
  if (opts.prependBos) for (const id of tok.bosIds) (ids.push(id), flags.push(0));
  for (const s of segments) {
    const piece = tok.encode(s.text);
    for (const id of piece) (ids.push(id), flags.push(s.trainable ? 1 : 0));
  }
  if (opts.appendEos && tok.eosId !== null) {
    const last = segments[segments.length - 1];
    ids.push(tok.eosId);
    flags.push(last?.trainable ? 1 : 0);
  }
  return { where, ids: Int32Array.from(ids), trainable: Uint8Array.from(flags) };
}

export interface TokenizeResult {
  examples: TokenizedExample[];
  /** Examples that could not be rendered (e.g. no chat template): named, never silently dropped. */
  problems: DataProblem[];
}

/**
 * Renders and tokenizes examples, giving the event loop a turn every `chunkSize` examples. A
 * preference pair becomes two tokenized examples in a row, chosen then rejected. Examples whose
 * template fails become problems.
 */
export async function tokenizeExamples(
  examples: Example[],
  tok: TextTokenizer,
  ctx: RenderContext = {},
  opts: { chunkSize?: number; onProgress?: (fraction: number) => void; signal?: AbortSignal } = {},
): Promise<TokenizeResult> {
  const out: TokenizeResult = { examples: [], problems: [] };
  const chunk = opts.chunkSize ?? 200;
  for (let i = 0; i < examples.length; i++) {
    const ex = examples[i];
    try {
      if (ex.format === 'preference') {
        const r = renderPreference(ex, ctx);
        out.examples.push({ ...tokenizeSegments(r.chosen.segments, tok, r.chosen, ex.where), pair: 'chosen' });
        out.examples.push({ ...tokenizeSegments(r.rejected.segments, tok, r.rejected, ex.where), pair: 'rejected' });
      } else {
        const r = renderExample(ex, ctx);
        out.examples.push(tokenizeSegments(r.segments, tok, r, ex.where));
      }
    } catch (e) {
      out.problems.push({ where: ex.where, message: (e as Error).message, severity: 'error' });
    }
    if ((i + 1) % chunk === 0) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new DOMException('aborted', 'AbortError');
      opts.onProgress?.((i + 1) / examples.length);
      await yieldToEventLoop();
    }
  }
  opts.onProgress?.(1);
  return out;
}

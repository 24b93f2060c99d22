// A byte-level BPE tokenizer (GPT-2 style) trained on the user's text, the TypeScript twin of the
// recipe's models/recipe/bpe.py: GPT-2's pre-tokenisation regex (the one transformers.js's ByteLevel
// pre-tokenizer uses), every byte mapped to a printable character (bytes_to_unicode), the shipped
// model's three special tokens first (ids 0–2, so chat and end-of-text handling keep working), then
// the 256 bytes, then merges learned greedily by pair frequency — ties broken by the pair itself, the
// larger (first token, second token) winning, exactly as the recipe's max(count, pair) — until the
// vocabulary has the size asked for or no pair is seen twice. `encode` applies merges by rank as
// tokenizers' BPE model does, so its ids and transformers.js's agree (tests/unit/pretrain-bpe.test.ts).
// The Hugging Face files it is saved as are written by bpe-files.ts.

import { yieldToEventLoop } from '../data/decode.ts';

/** GPT-2's pre-tokenisation: contractions, letters, digits, other symbols, whitespace runs. */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** The shipped tokenizer's special tokens, at the same ids: <|endoftext|> = 0 (bos, eos, pad), <|im_end|> = 2. */
export const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;

/** The smallest vocabulary: the special tokens and the 256 bytes (no merge at all). */
export const MIN_VOCAB_SIZE = SPECIAL_TOKENS.length + 256;
/** The largest vocabulary trained here (pair keys pack two ids into one number below 2^32). */
export const MAX_VOCAB_SIZE = 65536;

/** GPT-2's bytes_to_unicode: printable bytes map to themselves, the others to U+0100 onwards. */
export const BYTE_CHARS: string[] = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = printable(b) ? String.fromCharCode(b) : String.fromCharCode(256 + n++);
  return out;
})();
const CHAR_TO_BYTE = new Map(BYTE_CHARS.map((c, b) => [c, b]));

const utf8 = new TextEncoder();

/** The pre-tokenised pieces of `text`, each written in byte characters. */
export function pretokenize(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(GPT2_PATTERN)) out.push(byteChars(m[0]));
  return out;
}

function byteChars(piece: string): string {
  let s = '';
  for (const b of utf8.encode(piece)) s += BYTE_CHARS[b];
  return s;
}

const pairKey = (a: number, b: number) => a * MAX_VOCAB_SIZE + b;

/** A trained tokenizer: the vocabulary in id order and the merges in rank order. */
export class BpeTokenizer {
  readonly vocab: readonly string[];
  readonly merges: readonly (readonly [string, string])[];
  private readonly ids: Map<string, number>;
  /** (left id, right id) → [rank, merged id] */
  private readonly ranks = new Map<number, [number, number]>();
  private readonly cache = new Map<string, number[]>();
  private readonly specialSplit: RegExp;

  constructor(vocab: readonly string[], merges: readonly (readonly [string, string])[]) {
    this.vocab = vocab;
    this.merges = merges;
    this.ids = new Map(vocab.map((t, i) => [t, i]));
    merges.forEach(([a, b], rank) => {
      const ia = this.ids.get(a);
      const ib = this.ids.get(b);
      const merged = this.ids.get(a + b);
      if (ia === undefined || ib === undefined || merged === undefined) throw new Error(`merge ${rank} (${a} ${b}) names a token the vocabulary lacks`);
      this.ranks.set(pairKey(ia, ib), [rank, merged]);
    });
    this.specialSplit = new RegExp(`(${SPECIAL_TOKENS.map((t) => t.replace(/[|]/g, '\\|')).join('|')})`);
  }

  /** Ids for `text`; special tokens written in the text are recognised, as Hugging Face's tokenizers do. */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const chunk of text.split(this.specialSplit)) {
      if (!chunk) continue;
      const special = (SPECIAL_TOKENS as readonly string[]).indexOf(chunk);
      if (special >= 0) out.push(special);
      else for (const w of pretokenize(chunk)) out.push(...this.bpe(w));
    }
    return out;
  }

  /** Text for ids: bytes decoded as UTF-8 (a cut character becomes U+FFFD), special tokens as written. */
  decode(ids: number[]): string {
    let text = '';
    let bytes: number[] = [];
    const flush = () => {
      text += new TextDecoder().decode(new Uint8Array(bytes));
      bytes = [];
    };
    for (const id of ids) {
      const t = this.vocab[id];
      if (t === undefined) throw new Error(`token id ${id} is outside the vocabulary of ${this.vocab.length}`);
      if (id < SPECIAL_TOKENS.length) {
        flush();
        text += t;
      } else for (const c of t) bytes.push(CHAR_TO_BYTE.get(c)!);
    }
    flush();
    return text;
  }

  /** One pre-tokenised word: merge the lowest-ranked adjacent pair (leftmost on a tie) until none is left. */
  private bpe(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const parts = [...word].map((c) => this.ids.get(c)!);
    while (parts.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      let merged = 0;
      for (let k = 0; k + 1 < parts.length; k++) {
        const r = this.ranks.get(pairKey(parts[k], parts[k + 1]));
        if (r && r[0] < bestRank) [best, bestRank, merged] = [k, r[0], r[1]];
      }
      if (best < 0) break;
      parts.splice(best, 2, merged);
    }
    this.cache.set(word, parts);
    return parts;
  }
}

export interface BpeOptions {
  /** Tokens wanted, special tokens and bytes included (MIN_VOCAB_SIZE … MAX_VOCAB_SIZE). */
  vocabSize: number;
  /** Called with the fraction done (0…1) now and then, and with 1 at the end. */
  onProgress?: (fraction: number) => void;
  /** Stops training between merges; the promise rejects with "tokenizer training was stopped". */
  signal?: AbortSignal;
}

export interface BpeTraining {
  tokenizer: BpeTokenizer;
  /** Why the vocabulary is smaller than asked (the text ran out of pairs), or null. */
  shortBy: string | null;
}

/** What is wrong with a vocabulary size (null when it can be trained). */
export function vocabSizeProblem(n: number): string | null {
  if (Number.isInteger(n) && n >= MIN_VOCAB_SIZE && n <= MAX_VOCAB_SIZE) return null;
  return `the vocabulary size must be a whole number from ${MIN_VOCAB_SIZE} (3 special tokens and the 256 bytes) to ${MAX_VOCAB_SIZE.toLocaleString('en')}, got ${n}`;
}

/** A max-heap of (count, pair) entries; stale ones (count changed since) are skipped when popped. */
class PairHeap {
  private readonly items: { count: number; a: number; b: number }[] = [];
  constructor(private readonly vocab: string[]) {}

  /** The recipe's order: higher count first, then the larger (first token, second token) strings. */
  private above(x: { count: number; a: number; b: number }, y: { count: number; a: number; b: number }): boolean {
    if (x.count !== y.count) return x.count > y.count;
    const [xa, ya] = [this.vocab[x.a], this.vocab[y.a]];
    if (xa !== ya) return xa > ya; // every character is below U+D800, so UTF-16 order is code-point order (Python's)
    return this.vocab[x.b] > this.vocab[y.b];
  }

  push(count: number, a: number, b: number): void {
    const h = this.items;
    h.push({ count, a, b });
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.above(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  pop(): { count: number; a: number; b: number } | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      for (let i = 0; ; ) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let m = i;
        if (l < h.length && this.above(h[l], h[m])) m = l;
        if (r < h.length && this.above(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

/** Trains a byte-level BPE of `vocabSize` tokens on `texts` (the recipe's algorithm, same result). */
export async function trainBpe(texts: string[], o: BpeOptions): Promise<BpeTraining> {
  const problem = vocabSizeProblem(o.vocabSize);
  if (problem) throw new Error(problem);
  let lastYield = Date.now();
  // Yields to the event loop every ~40 ms so a worker can post the progress and see a stop.
  const tick = async (fraction: number) => {
    if (Date.now() - lastYield < 40) return;
    o.onProgress?.(fraction);
    await yieldToEventLoop();
    lastYield = Date.now();
    if (o.signal?.aborted) throw new Error('tokenizer training was stopped');
  };
  if (o.signal?.aborted) throw new Error('tokenizer training was stopped');

  // 1. Word counts (the first 10% of the progress bar).
  const words = new Map<string, number>();
  const totalChars = texts.reduce((n, t) => n + t.length, 0) || 1;
  let doneChars = 0;
  for (const text of texts) {
    let n = 0;
    for (const m of text.matchAll(GPT2_PATTERN)) {
      const w = byteChars(m[0]);
      words.set(w, (words.get(w) ?? 0) + 1);
      if (++n % 4096 === 0) await tick((0.1 * (doneChars + (m.index ?? 0))) / totalChars);
    }
    doneChars += text.length;
  }

  // 2. Pair counts over the distinct words, each weighted by its count.
  const vocab: string[] = [...SPECIAL_TOKENS, ...BYTE_CHARS];
  const idOf = new Map(vocab.map((t, i) => [t, i]));
  const seqs: number[][] = [...words.keys()].map((w) => [...w].map((c) => idOf.get(c)!));
  const freqs: number[] = [...words.values()];
  const counts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const add = (a: number, b: number, f: number, i: number) => {
    const k = pairKey(a, b);
    counts.set(k, (counts.get(k) ?? 0) + f);
    let s = where.get(k);
    if (!s) where.set(k, (s = new Set()));
    s.add(i);
  };
  seqs.forEach((s, i) => {
    for (let j = 0; j + 1 < s.length; j++) add(s[j], s[j + 1], freqs[i], i);
  });
  const heap = new PairHeap(vocab);
  for (const [k, c] of counts) heap.push(c, Math.floor(k / MAX_VOCAB_SIZE), k % MAX_VOCAB_SIZE);

  // 3. Merges: the most frequent pair (ties: the larger pair) becomes a token, in every word it occurs in.
  const merges: [string, string][] = [];
  const wanted = o.vocabSize - vocab.length;
  while (vocab.length < o.vocabSize) {
    let best = heap.pop();
    while (best && counts.get(pairKey(best.a, best.b)) !== best.count) best = heap.pop();
    if (!best || best.count < 2) break;
    const { a, b } = best;
    const text = vocab[a] + vocab[b];
    // Two merges can spell the same string ("ab"+"c", "a"+"bc"): the token keeps its first id.
    let merged = idOf.get(text);
    if (merged === undefined) {
      merged = vocab.length;
      vocab.push(text);
      idOf.set(text, merged);
    }
    merges.push([vocab[a], vocab[b]]);
    const changed = new Set<number>();
    for (const i of where.get(pairKey(a, b)) ?? []) {
      const s = seqs[i];
      const f = freqs[i];
      for (let j = 0; j + 1 < s.length; j++) {
        const k = pairKey(s[j], s[j + 1]);
        const c = counts.get(k)! - f;
        if (c <= 0) counts.delete(k);
        else counts.set(k, c);
        changed.add(k);
      }
      const out: number[] = [];
      for (let j = 0; j < s.length; j++) {
        if (j + 1 < s.length && s[j] === a && s[j + 1] === b) {
          out.push(merged);
          j++;
        } else out.push(s[j]);
      }
      seqs[i] = out;
      for (let j = 0; j + 1 < out.length; j++) {
        add(out[j], out[j + 1], f, i);
        changed.add(pairKey(out[j], out[j + 1]));
      }
    }
    where.delete(pairKey(a, b));
    for (const k of changed) {
      const c = counts.get(k);
      if (c !== undefined) heap.push(c, Math.floor(k / MAX_VOCAB_SIZE), k % MAX_VOCAB_SIZE);
    }
    await tick(0.1 + (0.9 * merges.length) / wanted);
  }
  o.onProgress?.(1);
  const shortBy =
    vocab.length < o.vocabSize
      ? `the text ran out of pairs: after ${merges.length.toLocaleString('en')} merges no pair of tokens occurs twice, so the vocabulary has ${vocab.length.toLocaleString('en')} tokens, not ${o.vocabSize.toLocaleString('en')}`
      : null;
  return { tokenizer: new BpeTokenizer(vocab, merges), shortBy };
}

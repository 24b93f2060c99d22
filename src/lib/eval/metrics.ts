// Per-example evaluation numbers, computed on the CPU from what the engine reads back (one row of
// logits per position) and from the generated text:
//   loss           mean −log p(target) over the positions training counts (completion + EOS)
//   perplexity     exp(loss)
//   token accuracy share of those positions whose greedy (argmax) prediction is the target, with the
//                  true prefix fed in (teacher forcing): TRL's `mean_token_accuracy`
//   exact match    the greedy output equals the reference, up to surrounding and repeated whitespace
//   ROUGE-L        F1 of the longest common subsequence of words (rouge_score's tokenizer: lower case,
//                  runs of [a-z0-9])
//   chrF           sacreBLEU's chrF: character n-grams 1..6 without whitespace, β = 2, on 0..100

import { IGNORE_INDEX } from '../data/pack.ts';

/** Σ −log p and the count of correct argmax predictions over the counted positions of one sequence. */
export interface TokenScores {
  /** Σ −log softmax(logits)[target] over counted positions (nats) */
  lossSum: number;
  /** positions counted (target ≠ −100) */
  tokens: number;
  /** counted positions whose argmax is the target */
  correct: number;
}

/**
 * Scores one sequence from its logits (T·V, row t predicting targets[t]); positions with target −100
 * are not counted. Ties in the argmax go to the lowest id, as torch.argmax does.
 */
export function scoreTokens(logits: Float32Array, V: number, targets: ArrayLike<number>): TokenScores {
  let lossSum = 0;
  let tokens = 0;
  let correct = 0;
  for (let t = 0; t < targets.length; t++) {
    const target = targets[t];
    if (target === IGNORE_INDEX) continue;
    const row = logits.subarray(t * V, (t + 1) * V);
    let max = -Infinity;
    let argmax = 0;
    for (let v = 0; v < V; v++) {
      if (row[v] > max) {
        max = row[v];
        argmax = v;
      }
    }
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(row[v] - max);
    lossSum += max + Math.log(z) - row[target];
    tokens++;
    if (argmax === target) correct++;
  }
  return { lossSum, tokens, correct };
}

/** Surrounding whitespace dropped, inner runs of whitespace as one space. */
export function normalizeAnswer(s: string): string {
  return s.trim().replace(/\s+/g, ' ');
}

/** 1 when the prediction is the reference (normalizeAnswer on both), else 0. */
export function exactMatch(prediction: string, reference: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(reference) ? 1 : 0;
}

/** rouge_score's default tokenizer: lower case, every run of letters/digits a token. */
export function rougeTokens(s: string): string[] {
  return s.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

/** Length of the longest common subsequence (dynamic programming over two rows). */
export function lcsLength<T>(a: readonly T[], b: readonly T[]): number {
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/** ROUGE-L F1 (0..1): P = lcs/|prediction|, R = lcs/|reference|, F = 2PR/(P+R); 0 when either is empty. */
export function rougeL(prediction: string, reference: string): number {
  const p = rougeTokens(prediction);
  const r = rougeTokens(reference);
  if (p.length === 0 || r.length === 0) return 0;
  const lcs = lcsLength(p, r);
  if (lcs === 0) return 0;
  const precision = lcs / p.length;
  const recall = lcs / r.length;
  return (2 * precision * recall) / (precision + recall);
}

/** Counts of the character n-grams of `s`. */
function charNgrams(s: string, n: number): Map<string, number> {
  const chars = [...s];
  const out = new Map<string, number>();
  for (let i = 0; i + n <= chars.length; i++) {
    const g = chars.slice(i, i + n).join('');
    out.set(g, (out.get(g) ?? 0) + 1);
  }
  return out;
}

export const CHRF_ORDER = 6;
export const CHRF_BETA = 2;

/**
 * sacreBLEU's sentence chrF (CHRF() defaults: char_order 6, word_order 0, beta 2, whitespace left
 * out, no eps smoothing), 0..100. Per order n: hypothesis, reference and matched n-gram counts
 * (matches clipped to the smaller count); precision and recall are averaged over the orders both
 * sides have n-grams of (sacreBLEU's effective order), then F_β of the averages.
 */
export function chrF(prediction: string, reference: string): number {
  const hyp = prediction.split(/\s+/).join('');
  const ref = reference.split(/\s+/).join('');
  const eps = 1e-16;
  const factor = CHRF_BETA ** 2;
  let avgPrec = 0;
  let avgRec = 0;
  let effective = 0;
  for (let n = 1; n <= CHRF_ORDER; n++) {
    const h = charNgrams(hyp, n);
    const r = charNgrams(ref, n);
    let nHyp = 0;
    let nRef = 0;
    let match = 0;
    for (const c of h.values()) nHyp += c;
    for (const c of r.values()) nRef += c;
    for (const [g, c] of h) match += Math.min(c, r.get(g) ?? 0);
    avgPrec += nHyp > 0 ? match / nHyp : eps;
    avgRec += nRef > 0 ? match / nRef : eps;
    if (nHyp > 0 && nRef > 0) effective++;
  }
  if (effective === 0) return 0;
  avgPrec /= effective;
  avgRec /= effective;
  if (avgPrec + avgRec === 0) return 0;
  return (100 * (1 + factor) * avgPrec * avgRec) / (factor * avgPrec + avgRec);
}

/** One example's numbers; the text scores are null for plain text (no prompt to answer). */
export interface ExampleScores {
  loss: number;
  perplexity: number;
  /** counted positions */
  tokens: number;
  tokenAccuracy: number;
  exactMatch: number | null;
  rougeL: number | null;
  chrF: number | null;
}

export function exampleScores(s: TokenScores, text: { prediction: string; reference: string } | null): ExampleScores {
  const loss = s.tokens ? s.lossSum / s.tokens : NaN;
  return {
    loss,
    perplexity: Math.exp(loss),
    tokens: s.tokens,
    tokenAccuracy: s.tokens ? s.correct / s.tokens : NaN,
    exactMatch: text ? exactMatch(text.prediction, text.reference) : null,
    rougeL: text ? rougeL(text.prediction, text.reference) : null,
    chrF: text ? chrF(text.prediction, text.reference) : null,
  };
}

/**
 * Totals over examples. loss, perplexity and token accuracy are token-weighted (the loss of all counted
 * tokens together, as the held-out loss; perplexity = exp of it); exact match, ROUGE-L and chrF are
 * means over the examples that have them. Each comes with its count.
 */
export interface EvalTotals {
  examples: number;
  tokens: number;
  loss: number;
  perplexity: number;
  tokenAccuracy: number;
  /** examples with a text score (prompted formats) */
  scored: number;
  exactMatch: number | null;
  rougeL: number | null;
  chrF: number | null;
}

export function totals(rows: readonly ExampleScores[]): EvalTotals {
  let lossSum = 0;
  let tokens = 0;
  let correct = 0;
  let scored = 0;
  let em = 0;
  let rl = 0;
  let cf = 0;
  for (const r of rows) {
    if (r.tokens > 0) {
      lossSum += r.loss * r.tokens;
      correct += r.tokenAccuracy * r.tokens;
      tokens += r.tokens;
    }
    if (r.exactMatch !== null && r.rougeL !== null && r.chrF !== null) {
      scored++;
      em += r.exactMatch;
      rl += r.rougeL;
      cf += r.chrF;
    }
  }
  const loss = tokens ? lossSum / tokens : NaN;
  return {
    examples: rows.length,
    tokens,
    loss,
    perplexity: Math.exp(loss),
    tokenAccuracy: tokens ? Math.round(correct) / tokens : NaN,
    scored,
    exactMatch: scored ? em / scored : null,
    rougeL: scored ? rl / scored : null,
    chrF: scored ? cf / scored : null,
  };
}

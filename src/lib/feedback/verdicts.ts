// Human feedback as data: a verdict on a comparison (left better, right better, tie, both bad) and a
// pick among K samples become judgments and preference pairs {prompt, chosen, rejected}, each pair
// carrying what produced its two answers (model, adapter, sampling settings with the seed, time).
//
// A verdict that prefers a side makes one pair; a tie or "both bad" prefers nothing, so it is kept as
// a judgment only (the win rate counts it). A pair is checked with the data layer's own rules
// (data/formats.ts preferencePair), so nothing the store keeps is refused when it is read back.

import { preferencePair } from '../data/formats.ts';
import { isGreedy, type SamplingOptions } from '../generate/sampling.ts';

export type Verdict = 'left' | 'right' | 'tie' | 'both-bad';

/** The verdicts in the order the page shows them, with the key that gives each. */
export const VERDICTS: readonly { verdict: Verdict; label: string; key: string }[] = [
  { verdict: 'left', label: 'Left is better', key: '1' },
  { verdict: 'right', label: 'Right is better', key: '2' },
  { verdict: 'tie', label: 'Tie', key: '3' },
  { verdict: 'both-bad', label: 'Both bad', key: '4' },
];

/** The verdict a key gives, or null. */
export function verdictForKey(key: string): Verdict | null {
  return VERDICTS.find((v) => v.key === key)?.verdict ?? null;
}

/** What produced one answer. */
export interface Generator {
  /** The base model's id (e.g. the shipped model's, or a Hub id). */
  model: string;
  /** onnxruntime-web (the base) or our WGSL engine (the base, or the base with an adapter). */
  runtime: 'onnx' | 'engine';
  /** The saved adapter, or null for the base model. */
  adapterId: string | null;
  /** The adapter's name when it answered (it may be renamed or deleted later). */
  adapterName: string | null;
  /** Sampling settings, the seed among them. */
  sampling: SamplingOptions;
  /** The prompt went through the model's chat template. */
  chat: boolean;
}

/** A generator in words: "pirate (adapter)", "Base model (onnxruntime-web)", … */
export function generatorLabel(g: Pick<Generator, 'runtime' | 'adapterId' | 'adapterName'>): string {
  if (g.adapterId !== null) return `${g.adapterName ?? g.adapterId} (adapter)`;
  return g.runtime === 'onnx' ? 'Base model (onnxruntime-web)' : 'Base model (WebGPU engine, no adapter)';
}

/** How it sampled, in a few words: "seed 42, temperature 0.8, top-k 40, top-p 0.95" or "greedy". */
export function samplingLabel(o: SamplingOptions): string {
  return isGreedy(o) ? 'greedy' : `seed ${o.seed}, temperature ${o.temperature}, top-k ${o.topK}, top-p ${o.topP}`;
}

/** One answer and what produced it. */
export interface Answer {
  text: string;
  by: Generator;
}

/** A judged comparison: kept whatever the verdict, for the win rate. */
export interface Judgment {
  id: string;
  prompt: string;
  verdict: Verdict;
  left: Answer;
  right: Answer;
  /** The pair this judgment made, or null (tie, both bad, or answers a pair cannot hold). */
  pairId: string | null;
  at: number;
}

/** A preference pair as the store keeps it. */
export interface PreferenceRecord {
  id: string;
  prompt: string;
  chosen: string;
  rejected: string;
  chosenBy: Generator;
  rejectedBy: Generator;
  /** A verdict in the compare view, or a pick among samples. */
  source: 'compare' | 'sample-pick';
  createdAt: number;
  updatedAt: number;
  /** The user changed its text or swapped its answers after it was made. */
  edited: boolean;
}

/** A pair's content before the store gives it an id. */
export type NewPair = Omit<PreferenceRecord, 'id' | 'createdAt' | 'updatedAt' | 'edited'>;

/**
 * Why {prompt, chosen, rejected} cannot be a training pair, or null: the data layer's rules (an empty
 * answer, chosen equal to rejected) and an empty prompt (the page always has one).
 */
export function pairProblem(prompt: string, chosen: string, rejected: string): string | null {
  if (prompt.trim() === '') return 'the prompt is empty';
  const r = preferencePair({ format: 'preference', where: { file: 'preferences', unit: 'line', index: 0, line: 1 }, prompt, chosen, rejected });
  return 'problem' in r ? `${r.problem.field} ${r.problem.message}` : null;
}

/** What a verdict makes: the pair it prefers (null for tie and both bad) and why there is none when it prefers a side. */
export function verdictPair(
  prompt: string,
  left: Answer,
  right: Answer,
  verdict: Verdict,
): { pair: NewPair | null; problem: string | null } {
  if (verdict === 'tie' || verdict === 'both-bad') return { pair: null, problem: null };
  const [win, lose] = verdict === 'left' ? [left, right] : [right, left];
  const problem = pairProblem(prompt, win.text, lose.text);
  if (problem) return { pair: null, problem };
  return {
    pair: { prompt, chosen: win.text, rejected: lose.text, chosenBy: win.by, rejectedBy: lose.by, source: 'compare' },
    problem: null,
  };
}

/**
 * The pairs a pick among samples makes: best × worst when a worst is picked, else best × every other
 * sample. Samples that a pair cannot hold (the same text as the best, or empty) are left out and
 * counted in `skipped`.
 */
export function pickPairs(prompt: string, samples: Answer[], best: number, worst: number | null): { pairs: NewPair[]; skipped: number } {
  if (!Number.isInteger(best) || best < 0 || best >= samples.length) throw new Error(`no sample ${best + 1} to pick as the best`);
  if (worst !== null && (worst === best || worst < 0 || worst >= samples.length)) throw new Error('the worst sample must be another one than the best');
  const others = worst !== null ? [worst] : samples.map((_, i) => i).filter((i) => i !== best);
  const pairs: NewPair[] = [];
  let skipped = 0;
  for (const i of others) {
    if (pairProblem(prompt, samples[best].text, samples[i].text)) {
      skipped++;
      continue;
    }
    pairs.push({ prompt, chosen: samples[best].text, rejected: samples[i].text, chosenBy: samples[best].by, rejectedBy: samples[i].by, source: 'sample-pick' });
  }
  return { pairs, skipped };
}

/** The K seeds of "sample and pick": the chosen seed and the K−1 after it (wrapping at 2³²). */
export function sampleSeeds(seed: number, k: number): number[] {
  if (!Number.isInteger(k) || k < 2 || k > 8) throw new Error(`draw 2 to 8 samples, not ${k}`);
  return Array.from({ length: k }, (_, i) => (seed + i) >>> 0);
}

// RAFT (reward-ranked fine-tuning, Dong et al. 2023): the RLHF loop as rounds of plain supervised
// fine-tuning on the policy's own best answers. Each round, with the adapter as it stands:
//
//   sample   K answers per prompt with the one sampler (generate/sampling.ts), seeded by (seed, round,
//            prompt, k): a round's samples depend only on the adapter it starts from
//   score    each answer with the reward (a rule spec, the reward model, or anything that rates text)
//   keep     the best answer per prompt, or the top fraction of all samples
//   train    a short SFT run on the kept (prompt, answer) pairs — runTraining, the one run loop, from the
//            adapter's current weights
//
// and after the last round one more sampling pass evaluates the final adapter, so `rounds` rounds
// report rounds + 1 sampling passes (round 0: the starting adapter; a fresh LoRA is the base model).
// The state after every finished round (its numbers and the adapter's weights) goes to onRound;
// handing it back as `resume` continues with the next round exactly as an uninterrupted run would.

import type { MethodConfig } from '../adapters/config.ts';
import { tokenizeExamples, type TextTokenizer } from '../data/tokenize.ts';
import { packExamples, type PackedRows } from '../data/pack.ts';
import type { Example } from '../data/formats.ts';
import type { Engine, ExportedTensor } from '../engine.ts';
import type { SamplingOptions } from '../generate/sampling.ts';
import type { TrainConfig } from '../train/config.ts';
import { runTraining, type TrainUpdate } from '../train/run.ts';

export interface RaftPrompt {
  prompt: string;
  /** a reference answer (for an exact-match rule), when the prompts file has one */
  reference?: string | null;
}

export interface RaftSettings {
  /** K: answers sampled per prompt each round */
  k: number;
  /** rounds of sample → score → keep → train */
  rounds: number;
  /** SFT optimizer steps per round */
  stepsPerRound: number;
  /** 'best': the best answer of each prompt; a number in (0, 1]: that share of all samples, best first */
  keep: 'best' | number;
  sampling: Pick<SamplingOptions, 'temperature' | 'topK' | 'topP' | 'maxNewTokens'>;
  /** seeds every round's sampling and training */
  seed: number;
}

/**
 * The settings a RAFT run starts from (the CLI's flags and the page's fields), each with why. They
 * are sized for the shipped model on a laptop GPU: a round is K·prompts short samples and a few steps.
 */
export const RAFT_DEFAULTS = {
  k: 4, // four tries per prompt: enough that a reward the base meets one time in four usually has a winner
  rounds: 3, // sample → keep → train three times, then one more pass to measure the last adapter
  stepsPerRound: 10, // a few passes over a handful of kept answers: the adapter learns them, not more
  // The top quarter of all samples, not each prompt's best: with a rule the base rarely meets, most
  // prompts have no answer that scores early on, and training on their best (a zero) teaches nothing
  // the reward wants (with 'best' a run measured 0.167 → 0.250 → 0.375 → 0.292: no rise).
  keep: 0.25 as RaftSettings['keep'],
  sampling: {
    temperature: 1, // the model's own distribution: RAFT needs variety among the K answers to rank
    topK: 0, // no cut: top-p alone trims the tail
    topP: 0.95, // drops the junk tail that a small model's full distribution still holds
    maxNewTokens: 16, // a phrase: long enough for a rule to find its word, short enough to sample quickly
  },
  // Each round is ten steps on a few answers, not a long run: at 1e-2 (five times LoRA's 2e-3 for a
  // long run) the kept answers' loss falls to about 0.3 within the round on the shipped model.
  learningRate: 1e-2,
  seed: 0,
};

export interface RaftSample {
  prompt: number;
  answer: string;
  reward: number;
}

export interface RaftRound {
  round: number;
  /** mean and max reward of the round's samples */
  mean: number;
  max: number;
  samples: RaftSample[];
  /** the samples kept for training (none after the last round) */
  kept: RaftSample[];
  /** the SFT run's last training loss (null after the last round) */
  trainLoss: number | null;
}

/** What a stopped run needs to continue: the finished rounds and the adapter after the last one. */
export interface RaftState {
  rounds: RaftRound[];
  weights: Map<string, ExportedTensor> | null;
}

export interface RaftInput {
  method: MethodConfig;
  /** the SFT settings of each round's run (max_steps is stepsPerRound; seed is varied per round) */
  config: TrainConfig;
  prompts: RaftPrompt[];
  settings: RaftSettings;
  tokenizer: TextTokenizer;
  /** token ids → text, special tokens left out */
  decode: (ids: number[]) => string;
  /**
   * Rates answers to their prompts (rule rewards, the reward model, the user's ranking): the round's
   * samples, K per prompt, prompt after prompt. It may take as long as it needs (the user's ranking
   * waits for them); it should end when `context.signal` aborts, and the run then stops cleanly.
   */
  reward: (items: { prompt: RaftPrompt; answer: string }[], context?: { round: number; signal?: AbortSignal }) => Promise<number[]> | number[];
}

export interface RaftOptions {
  /** after every sampling pass, with the state to resume from */
  onRound?: (round: RaftRound, state: RaftState) => Promise<void> | void;
  /** each round's training progress */
  onTrain?: (round: number, u: TrainUpdate) => void;
  /** what the loop is doing, in words (sampling is the slow part: one message per prompt) */
  onStage?: (message: string) => void;
  resume?: RaftState | null;
  /** stops between rounds (and a round's training after its current step) */
  signal?: AbortSignal;
}

export interface RaftResult {
  status: 'finished' | 'stopped';
  rounds: RaftRound[];
  weights: Map<string, ExportedTensor> | null;
}

/** Prompt i's k-th answer in round r: its sampling seed (distinct per round, prompt and sample). */
export function sampleSeed(seed: number, round: number, prompt: number, k: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(round + 1, 0x85ebca6b) ^ Math.imul(prompt + 1, 0xc2b2ae35) ^ Math.imul(k + 1, 0x27d4eb2f)) >>> 0;
}

/**
 * The samples to train on: each prompt's best (first on ties), or the top share of all, best first.
 * Among equal rewards the share goes round the prompts (every prompt's best, then every second best,
 * …): once most answers score, a share taken in sample order would train on the first prompts only and
 * let the adapter forget the others (measured: 0.25 → 1.0 → 0.5 → 0.5 over rounds 0–3 that way).
 */
export function keepSamples(samples: RaftSample[], keep: RaftSettings['keep']): RaftSample[] {
  if (keep === 'best') {
    const best = new Map<number, RaftSample>();
    for (const s of samples) if (!best.has(s.prompt) || s.reward > best.get(s.prompt)!.reward) best.set(s.prompt, s);
    return [...best.values()].sort((a, b) => a.prompt - b.prompt);
  }
  if (!(keep > 0 && keep <= 1)) throw new Error(`keep must be 'best' or a share in (0, 1] (got ${keep})`);
  const n = Math.max(1, Math.round(samples.length * keep));
  const order = (a: { s: RaftSample; i: number }, b: { s: RaftSample; i: number }) => b.s.reward - a.s.reward || a.i - b.i;
  // each sample's place among its own prompt's samples, best first
  const rank = new Map<number, number>();
  const byPrompt = new Map<number, { s: RaftSample; i: number }[]>();
  samples.forEach((s, i) => byPrompt.set(s.prompt, [...(byPrompt.get(s.prompt) ?? []), { s, i }]));
  for (const list of byPrompt.values()) list.sort(order).forEach((x, r) => rank.set(x.i, r));
  return samples
    .map((s, i) => ({ s, i }))
    .sort((a, b) => b.s.reward - a.s.reward || rank.get(a.i)! - rank.get(b.i)! || a.i - b.i)
    .slice(0, n)
    .map((x) => x.s);
}

/** Every problem with the settings, each a sentence. */
export function raftProblems(input: Pick<RaftInput, 'prompts' | 'settings'>): string[] {
  const p: string[] = [];
  const s = input.settings;
  if (input.prompts.length === 0) p.push('there are no prompts to sample answers for');
  if (!(Number.isInteger(s.k) && s.k >= 1)) p.push(`K (answers per prompt) must be a whole number of at least 1 (got ${s.k})`);
  if (!(Number.isInteger(s.rounds) && s.rounds >= 0)) p.push(`rounds must be a whole number of at least 0 (got ${s.rounds})`);
  if (!(Number.isInteger(s.stepsPerRound) && s.stepsPerRound >= 1)) p.push(`steps per round must be a whole number of at least 1 (got ${s.stepsPerRound})`);
  if (s.keep !== 'best' && !(s.keep > 0 && s.keep <= 1)) p.push(`keep must be "best" or a share above 0 and at most 1 (got ${s.keep})`);
  return p;
}

/** Runs (or resumes) RAFT rounds on `engine`. */
export async function runRaft(engine: Engine, input: RaftInput, opts: RaftOptions = {}): Promise<RaftResult> {
  const problems = raftProblems(input);
  if (problems.length) throw new Error(problems.join('; '));
  const { settings: s, tokenizer: tok } = input;
  const rounds: RaftRound[] = opts.resume ? structuredClone(opts.resume.rounds) : [];
  let weights = opts.resume?.weights ?? null;
  const promptIds = input.prompts.map((p) => [...tok.bosIds, ...tok.encode(p.prompt)]);

  while (rounds.length <= s.rounds) {
    if (opts.signal?.aborted) return { status: 'stopped', rounds, weights };
    const r = rounds.length;
    // The adapter as it stands: the seeded fresh method (round 0) or the last round's weights.
    engine.attach(input.method, input.config.seed);
    if (weights) engine.importWeights(weights);
    const samples: RaftSample[] = [];
    for (let i = 0; i < input.prompts.length; i++) {
      opts.onStage?.(`Round ${r}: sampling ${s.k} answers for prompt ${i + 1} of ${input.prompts.length}…`);
      for (let k = 0; k < s.k; k++) {
        // a stop drops the unfinished round: a resumed run samples it again, the same way
        if (opts.signal?.aborted) return { status: 'stopped', rounds, weights };
        const ids: number[] = [];
        const gen = engine.generate(promptIds[i], { maxNewTokens: s.sampling.maxNewTokens, sampling: { ...s.sampling, seed: sampleSeed(s.seed, r, i, k) } });
        for (;;) {
          const t = await engine.whileAlive(gen.next());
          if (t.done) break;
          ids.push(t.value);
        }
        samples.push({ prompt: i, answer: input.decode(ids), reward: 0 });
      }
    }
    opts.onStage?.(`Round ${r}: scoring ${samples.length} answers…`);
    let rewards: number[];
    try {
      rewards = await input.reward(
        samples.map((x) => ({ prompt: input.prompts[x.prompt], answer: x.answer })),
        { round: r, signal: opts.signal },
      );
    } catch (e) {
      // a stop while the reward waits (the user's ranking): the round is dropped like a stop in sampling
      if (opts.signal?.aborted) return { status: 'stopped', rounds, weights };
      throw e;
    }
    if (opts.signal?.aborted) return { status: 'stopped', rounds, weights };
    samples.forEach((x, j) => (x.reward = rewards[j]));
    const last = r === s.rounds;
    const kept = last ? [] : keepSamples(samples, s.keep).filter((x) => x.answer.trim() !== '');
    let trainLoss: number | null = null;
    if (kept.length > 0) {
      const train = await packKept(kept, input.prompts, tok, input.config.max_length);
      const empty = packExamples([], { seqLen: train.T, mode: 'pad', padId: tok.padId });
      const config = { ...input.config, max_steps: s.stepsPerRound, seed: (input.config.seed + r) >>> 0 };
      const run = await runTraining(
        engine,
        { method: input.method, config, data: { train, validation: empty, padId: tok.padId }, steps: s.stepsPerRound, start: weights ? { name: `round ${r}`, tensors: weights } : null },
        { onUpdate: (u) => opts.onTrain?.(r, u), signal: opts.signal },
      );
      if (run.status !== 'finished') {
        if (run.status === 'stopped') return { status: 'stopped', rounds, weights };
        throw new Error(`round ${r}: ${run.message}`);
      }
      trainLoss = run.history.train.at(-1)?.loss ?? null;
      weights = await engine.whileAlive(engine.exportWeights());
    }
    const mean = samples.reduce((a, x) => a + x.reward, 0) / samples.length;
    const round: RaftRound = { round: r, mean, max: Math.max(...samples.map((x) => x.reward)), samples, kept, trainLoss };
    rounds.push(round);
    await opts.onRound?.(round, { rounds, weights });
  }
  return { status: 'finished', rounds, weights };
}

/** The kept answers as {prompt, completion} examples through the data layer: loss on the answer only. */
async function packKept(kept: RaftSample[], prompts: RaftPrompt[], tok: TextTokenizer, T: number): Promise<PackedRows> {
  const examples: Example[] = kept.map((x, index) => ({
    where: { file: 'kept samples', unit: 'item', index, line: index + 1 },
    format: 'prompt-completion',
    prompt: prompts[x.prompt].prompt,
    completion: x.answer,
  }));
  const t = await tokenizeExamples(examples, tok);
  if (t.problems.length) throw new Error(`kept sample ${t.problems[0].where.index + 1}: ${t.problems[0].message}`);
  const packed = packExamples(t.examples, { seqLen: T, mode: 'pad', padId: tok.padId });
  if (packed.rows === 0) throw new Error('no kept sample has a token to train on');
  return packed;
}

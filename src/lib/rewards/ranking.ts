// The user's own ranking of a round's K samples per prompt as RAFT's reward. Each round, after
// sampling, the loop asks (an async callback: the page's panel, the CLI's stdin) for every prompt's
// choice and waits as long as the user needs; a stop while it waits ends the wait, and runRaft ends
// the run after its last finished round.
//
// A choice is either the best sample alone or the order of all K, best first (sample numbers are
// 1-based, as shown). Rewards: in an order, the sample at place p (0 = best) gets (K − 1 − p)/(K − 1),
// so the best gets 1, the worst 0, evenly between; with the best alone, it gets 1 and the others 0.
// With K = 1 the one sample gets 1.

import type { RaftInput, RaftPrompt } from './raft.ts';

/** One prompt's choice: sample numbers (1-based), best first — one (the best) or all K. */
export type RankChoice = number[];

/** One prompt's samples, as the user sees them. */
export interface RankGroup {
  prompt: string;
  answers: string[];
}

/** What the loop shows the user each round: every prompt's K samples. */
export interface RankQuestion {
  round: number;
  groups: RankGroup[];
}

/** Asks the user; resolves with one choice per group, in order. Should end (reject) when `signal` aborts. */
export type AskRanking = (question: RankQuestion, signal: AbortSignal | undefined) => Promise<RankChoice[]>;

/** Why `choice` is not a ranking of `k` samples, or null when it is. */
export function rankChoiceProblem(choice: readonly number[], k: number): string | null {
  if (choice.length === 0) return 'give the number of the best sample, or all the numbers best first';
  for (const n of choice) if (!(Number.isInteger(n) && n >= 1 && n <= k)) return `${n} is not a sample number (1 to ${k})`;
  if (new Set(choice).size !== choice.length) return 'a sample is named twice';
  if (choice.length !== 1 && choice.length !== k) return `give one number (the best) or all ${k} (best first), not ${choice.length}`;
  return null;
}

/** A line of text ("2", or "2 1 3 4", commas allowed) as a choice among `k`; throws naming the problem. */
export function parseRankLine(line: string, k: number): RankChoice {
  const parts = line.trim().split(/[\s,]+/).filter((x) => x !== '');
  const choice = parts.map((x) => (/^\d+$/.test(x) ? Number(x) : NaN));
  const bad = parts.find((_, i) => Number.isNaN(choice[i]));
  if (bad !== undefined) throw new Error(`"${bad}" is not a sample number (1 to ${k})`);
  const problem = rankChoiceProblem(choice, k);
  if (problem) throw new Error(problem);
  return choice;
}

/** The rewards of a group's `k` samples (in sample order) under `choice`. */
export function rankRewards(choice: readonly number[], k: number): number[] {
  const problem = rankChoiceProblem(choice, k);
  if (problem) throw new Error(problem);
  const rewards = new Array<number>(k).fill(0);
  if (choice.length === 1) rewards[choice[0] - 1] = 1;
  else choice.forEach((n, place) => (rewards[n - 1] = (k - 1 - place) / (k - 1)));
  return rewards;
}

/** Ends with an AbortError when `signal` aborts before `promise` settles. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new DOMException('stopped while waiting for the ranking', 'AbortError'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DOMException('stopped while waiting for the ranking', 'AbortError'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * RAFT's reward from the user's ranking: the round's samples (K per prompt, prompt after prompt, as
 * runRaft passes them) go to `ask` as groups, and its choices become rewards by rankRewards.
 */
export function rankingReward(ask: AskRanking, k: number): RaftInput['reward'] {
  return async (items, context) => {
    if (items.length % k !== 0) throw new Error(`the ranking expects ${k} samples per prompt (got ${items.length} samples)`);
    const groups: RankGroup[] = [];
    const prompts: RaftPrompt[] = [];
    for (let i = 0; i < items.length; i += k) {
      prompts.push(items[i].prompt);
      groups.push({ prompt: items[i].prompt.prompt, answers: items.slice(i, i + k).map((x) => x.answer) });
    }
    const choices = await untilAborted(ask({ round: context?.round ?? 0, groups }, context?.signal), context?.signal);
    if (choices.length !== groups.length) throw new Error(`the ranking has ${choices.length} choices for ${groups.length} prompts`);
    return choices.flatMap((c, g) => {
      try {
        return rankRewards(c, k);
      } catch (e) {
        throw new Error(`prompt ${g + 1} (${JSON.stringify(prompts[g].prompt)}): ${(e as Error).message}`);
      }
    });
  };
}

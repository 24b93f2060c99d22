// The user's ranking as RAFT's reward: a line or a click → rewards, and runRaft waiting for it (an
// engine stand-in that "samples" fixed tokens, so no GPU: the loop's sampling pass and its wait are
// what is tested; training is covered by the GPU and CLI tests).
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/lib/engine';
import { defaultMethod, defaultTrainConfig } from '../../src/lib/train/config';
import { RAFT_DEFAULTS, runRaft, type RaftInput } from '../../src/lib/rewards/raft';
import { parseRankLine, rankingReward, rankRewards, type AskRanking, type RankQuestion } from '../../src/lib/rewards/ranking';

describe('ranking → rewards', () => {
  it('gives the best alone 1 and the others 0, and an order (K−1−place)/(K−1)', () => {
    expect(rankRewards([3], 4)).toEqual([0, 0, 1, 0]);
    expect(rankRewards([2, 4, 1, 3], 4)).toEqual([1 / 3, 1, 0, 2 / 3]);
    expect(rankRewards([2, 1], 2)).toEqual([0, 1]);
    expect(rankRewards([1], 1)).toEqual([1]);
  });

  it('reads a line ("2", "2 1 3", "2,1,3") and names what is wrong with a bad one', () => {
    expect(parseRankLine(' 2 ', 3)).toEqual([2]);
    expect(parseRankLine('2 1 3', 3)).toEqual([2, 1, 3]);
    expect(parseRankLine('2,1, 3', 3)).toEqual([2, 1, 3]);
    expect(() => parseRankLine('', 3)).toThrow('give the number of the best sample, or all the numbers best first');
    expect(() => parseRankLine('two', 3)).toThrow('"two" is not a sample number (1 to 3)');
    expect(() => parseRankLine('4', 3)).toThrow('4 is not a sample number (1 to 3)');
    expect(() => parseRankLine('0', 3)).toThrow('0 is not a sample number (1 to 3)');
    expect(() => parseRankLine('1 1 2', 3)).toThrow('a sample is named twice');
    expect(() => parseRankLine('1 2', 3)).toThrow('give one number (the best) or all 3 (best first), not 2');
  });
});

/** A stand-in engine: each sample is one token, 100 + how many samples came before it. */
function fakeEngine(): Engine {
  let calls = 0;
  const e = {
    attach: () => undefined,
    importWeights: () => undefined,
    whileAlive: <T>(p: Promise<T>) => p,
    generate: async function* () {
      yield 100 + calls++;
      return 'length';
    },
  };
  return e as unknown as Engine;
}

function input(reward: RaftInput['reward'], k = 2): RaftInput {
  return {
    method: defaultMethod('LORA'),
    config: defaultTrainConfig('LORA'),
    prompts: [{ prompt: 'a' }, { prompt: 'b' }],
    settings: { ...RAFT_DEFAULTS, k, rounds: 0, keep: 'best' },
    tokenizer: { encode: () => [1], decode: () => '', bosIds: [], eosId: null, padId: 0 },
    decode: (ids) => `answer ${ids[0]}`,
    reward,
  };
}

describe('runRaft with the user’s ranking', () => {
  it('asks once per round with each prompt’s K samples, waits for the answer and uses it as the rewards', async () => {
    const questions: RankQuestion[] = [];
    let answer: (choices: number[][]) => void = () => undefined;
    const ask: AskRanking = (q) => {
      questions.push(q);
      return new Promise((resolve) => (answer = resolve));
    };
    const run = runRaft(fakeEngine(), input(rankingReward(ask, 2)));
    await new Promise((r) => setTimeout(r, 20)); // the loop now waits for the ranking
    expect(questions).toEqual([{ round: 0, groups: [{ prompt: 'a', answers: ['answer 100', 'answer 101'] }, { prompt: 'b', answers: ['answer 102', 'answer 103'] }] }]);
    answer([[2], [1, 2]]);
    const result = await run;
    expect(result.status).toBe('finished');
    expect(result.rounds[0].samples.map((x) => x.reward)).toEqual([0, 1, 1, 0]);
    expect(result.rounds[0].mean).toBe(0.5);
  });

  it('stops cleanly (no round, no error) when the run is stopped while it waits', async () => {
    const controller = new AbortController();
    let asked = false;
    let sawSignal: AbortSignal | undefined;
    const ask: AskRanking = (_q, signal) => {
      asked = true;
      sawSignal = signal;
      return new Promise(() => undefined); // the user never answers
    };
    const run = runRaft(fakeEngine(), input(rankingReward(ask, 2)), { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 20));
    expect(asked).toBe(true);
    controller.abort();
    const result = await run;
    expect(result).toEqual({ status: 'stopped', rounds: [], weights: null });
    expect(sawSignal?.aborted).toBe(true);
  });

  it('names the prompt whose choice is not a ranking', async () => {
    const reward = rankingReward(async () => [[1], [3]], 2);
    await expect(runRaft(fakeEngine(), input(reward))).rejects.toThrow('prompt 2 ("b"): 3 is not a sample number (1 to 2)');
    const short = rankingReward(async () => [[1]], 2);
    await expect(runRaft(fakeEngine(), input(short))).rejects.toThrow('the ranking has 1 choices for 2 prompts');
  });
});

// RAFT's pieces that need no GPU: which samples a round keeps, the per-sample seeds, the settings'
// checks and the prompts file.
import { describe, expect, it } from 'vitest';
import { keepSamples, raftProblems, sampleSeed, type RaftSample } from '../../src/lib/rewards/raft';
import { parsePromptsFile } from '../../src/lib/rewards/prompts-file';

const s = (prompt: number, answer: string, reward: number): RaftSample => ({ prompt, answer, reward });

describe('RAFT', () => {
  it('keeps the best answer of each prompt (the first on ties), or the top share of all, best first', () => {
    const samples = [s(0, 'a', 0.1), s(0, 'b', 0.9), s(1, 'c', 0.5), s(1, 'd', 0.5), s(2, 'e', -1)];
    expect(keepSamples(samples, 'best').map((x) => x.answer)).toEqual(['b', 'c', 'e']);
    expect(keepSamples(samples, 0.4).map((x) => x.answer)).toEqual(['b', 'c']);
    expect(keepSamples(samples, 1).map((x) => x.answer)).toEqual(['b', 'c', 'd', 'a', 'e']);
    expect(keepSamples(samples, 0.01).map((x) => x.answer)).toEqual(['b']);
    // equal rewards: the share goes round the prompts (each one's best first), not down the first prompt
    const ties = [s(0, 'a', 1), s(0, 'b', 1), s(1, 'c', 1), s(1, 'd', 1), s(2, 'e', 0)];
    expect(keepSamples(ties, 0.4).map((x) => x.answer)).toEqual(['a', 'c']);
    expect(keepSamples(ties, 0.8).map((x) => x.answer)).toEqual(['a', 'c', 'b', 'd']);
    expect(() => keepSamples(samples, 0)).toThrow(/keep must be 'best' or a share in \(0, 1\]/);
  });

  it('gives every (round, prompt, sample) its own seed, the same every time', () => {
    const seeds = new Set<number>();
    for (let r = 0; r < 4; r++) for (let p = 0; p < 10; p++) for (let k = 0; k < 8; k++) seeds.add(sampleSeed(0, r, p, k));
    expect(seeds.size).toBe(4 * 10 * 8);
    expect(sampleSeed(3, 1, 2, 3)).toBe(sampleSeed(3, 1, 2, 3));
    expect(sampleSeed(3, 1, 2, 3)).not.toBe(sampleSeed(4, 1, 2, 3));
  });

  it('names every bad setting', () => {
    const settings = { k: 0, rounds: -1, stepsPerRound: 1.5, keep: 2, sampling: { temperature: 1, topK: 0, topP: 1, maxNewTokens: 8 }, seed: 0 };
    expect(raftProblems({ prompts: [], settings })).toEqual([
      'there are no prompts to sample answers for',
      'K (answers per prompt) must be a whole number of at least 1 (got 0)',
      'rounds must be a whole number of at least 0 (got -1)',
      'steps per round must be a whole number of at least 1 (got 1.5)',
      'keep must be "best" or a share above 0 and at most 1 (got 2)',
    ]);
  });

  it('reads prompts from .txt lines and .jsonl objects, naming a bad line', () => {
    expect(parsePromptsFile('a\n\n b \n', 'p.txt')).toEqual([{ prompt: 'a' }, { prompt: ' b ' }]);
    expect(parsePromptsFile('{"prompt":"q","reference":"r"}\n{"prompt":"q2","completion":"c"}\n{"prompt":"q3"}', 'p.jsonl')).toEqual([
      { prompt: 'q', reference: 'r' },
      { prompt: 'q2', reference: 'c' },
      { prompt: 'q3', reference: null },
    ]);
    expect(() => parsePromptsFile('{"prompt":"q"}\n{oops', 'p.jsonl')).toThrow('p.jsonl line 2: not valid JSON');
    expect(() => parsePromptsFile('{"text":"q"}', 'p.jsonl')).toThrow('p.jsonl line 1: needs a string "prompt"');
    expect(() => parsePromptsFile('\n\n', 'p.txt')).toThrow('p.txt has no prompt');
  });
});

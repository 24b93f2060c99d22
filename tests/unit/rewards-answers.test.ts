// What a reward model scores: a prompt + answer becomes exactly the row a preference pair's chosen
// sequence is in training, and its last token is where the head reads.
import { describe, expect, it } from 'vitest';
import { packExamples, parseDatasetText, tokenizeExamples } from '../../src/lib/data';
import { lastTokens } from '../../src/lib/model/model';
import { packAnswers } from '../../src/lib/rewards/answers';
import { byteTokenizer } from './data-fake-tokenizer';

describe('reward model input', () => {
  it('packs prompt + answer as training packs a pair\'s chosen sequence, and finds its last token', async () => {
    const tok = byteTokenizer({ bos: true });
    const T = 24;
    const parsed = await parseDatasetText('{"prompt": "Sky is", "chosen": " blue.", "rejected": " green."}\n', 'p.jsonl');
    const t = await tokenizeExamples(parsed.examples, tok);
    const pairs = packExamples(t.examples, { seqLen: T, mode: 'pad', padId: tok.padId });
    const rows = await packAnswers([{ prompt: 'Sky is', answer: ' blue.' }, { prompt: 'Sky is', answer: ' a very long answer that is cut' }], tok, T);
    expect(Array.from(rows.inputIds.subarray(0, T))).toEqual(Array.from(pairs.inputIds.subarray(0, T)));
    expect(Array.from(rows.targets.subarray(0, T))).toEqual(Array.from(pairs.targets.subarray(0, T)));
    // BOS + "Sky is" (6) + " blue." (6) + EOS = 14 tokens: the last, EOS, sits at position 13; the cut row ends at T−1
    const last = lastTokens(rows.targets, 2, T);
    expect(Array.from(last)).toEqual([13, T + T - 1]);
    expect(rows.inputIds[13]).toBe(tok.eosId);
  });

  it('names an answer with nothing to score', async () => {
    const tok = byteTokenizer({ bos: true });
    await expect(packAnswers([{ prompt: 'x'.repeat(40), answer: ' y' }], tok, 16)).rejects.toThrow(/answer 1 has no token to score/);
  });
});

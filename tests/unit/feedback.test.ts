// Human feedback as data: which pair a verdict or a pick makes, the TRL JSONL export read back by the
// page's own dataset loader, and the win rate of tuned over base.

import { describe, expect, it } from 'vitest';
import { filesReadiness, loadDatasetFiles } from '../../src/lib/data/load.ts';
import { exportForm, preferencesFile, preferencesJsonl, PREFERENCES_FILE } from '../../src/lib/feedback/export.ts';
import { type Answer, type Generator, type Judgment, pickPairs, sampleSeeds, verdictForKey, verdictPair, VERDICTS, type Verdict } from '../../src/lib/feedback/verdicts.ts';
import { share, winRates } from '../../src/lib/feedback/winrate.ts';
import { DEFAULT_SAMPLING } from '../../src/lib/generate/sampling.ts';

const gen = (adapterId: string | null, seed = 1, adapterName: string | null = adapterId): Generator => ({
  model: 'tiny',
  runtime: adapterId ? 'engine' : 'onnx',
  adapterId,
  adapterName,
  sampling: { ...DEFAULT_SAMPLING, seed },
  chat: false,
});
const answer = (text: string, by = gen(null)): Answer => ({ text, by });

describe('verdict → pair', () => {
  const L = answer(' left text', gen(null));
  const R = answer(' right text', gen('a1'));

  it('a side preferred is chosen, the other rejected, each with what produced it', () => {
    expect(verdictPair('Q', L, R, 'left')).toEqual({
      pair: { prompt: 'Q', chosen: ' left text', rejected: ' right text', chosenBy: L.by, rejectedBy: R.by, source: 'compare' },
      problem: null,
    });
    expect(verdictPair('Q', L, R, 'right').pair).toMatchObject({ chosen: ' right text', rejected: ' left text', chosenBy: R.by, rejectedBy: L.by });
  });

  it('a tie and "both bad" make no pair and no complaint', () => {
    expect(verdictPair('Q', L, R, 'tie')).toEqual({ pair: null, problem: null });
    expect(verdictPair('Q', L, R, 'both-bad')).toEqual({ pair: null, problem: null });
  });

  it('answers a pair cannot hold make none, with the loader’s reason', () => {
    expect(verdictPair('Q', L, answer(' left text'), 'right')).toEqual({ pair: null, problem: 'rejected is the same as chosen: the pair prefers nothing' });
    expect(verdictPair('Q', answer(''), R, 'left').problem).toBe('chosen is empty');
    expect(verdictPair('  ', L, R, 'left').problem).toBe('the prompt is empty');
  });

  it('each key gives one verdict, and the keys are the ones shown', () => {
    expect(VERDICTS.map((v) => verdictForKey(v.key))).toEqual(['left', 'right', 'tie', 'both-bad']);
    expect(verdictForKey('5')).toBeNull();
    expect(verdictForKey('Enter')).toBeNull();
  });
});

describe('sample and pick', () => {
  const samples = [answer(' a', gen('x', 10)), answer(' b', gen('x', 11)), answer(' a', gen('x', 12)), answer(' c', gen('x', 13))];

  it('best × every other sample, leaving out the ones with the best one’s text', () => {
    const { pairs, skipped } = pickPairs('Q', samples, 1, null);
    expect(pairs.map((p) => [p.chosen, p.rejected, p.chosenBy.sampling.seed, p.rejectedBy.sampling.seed])).toEqual([
      [' b', ' a', 11, 10],
      [' b', ' a', 11, 12],
      [' b', ' c', 11, 13],
    ]);
    expect(skipped).toBe(0);
    expect(pickPairs('Q', samples, 0, null)).toMatchObject({ skipped: 1 });
    expect(pickPairs('Q', samples, 0, null).pairs.map((p) => p.rejected)).toEqual([' b', ' c']);
  });

  it('best × worst when a worst is picked', () => {
    const { pairs } = pickPairs('Q', samples, 3, 1);
    expect(pairs).toEqual([{ prompt: 'Q', chosen: ' c', rejected: ' b', chosenBy: samples[3].by, rejectedBy: samples[1].by, source: 'sample-pick' }]);
  });

  it('refuses a best that is not a sample and a worst equal to the best', () => {
    expect(() => pickPairs('Q', samples, 4, null)).toThrow(/no sample 5/);
    expect(() => pickPairs('Q', samples, 2, 2)).toThrow(/another one than the best/);
  });

  it('draws K = 2…8 seeds, the chosen one and those after it', () => {
    expect(sampleSeeds(42, 3)).toEqual([42, 43, 44]);
    expect(sampleSeeds(2 ** 32 - 1, 2)).toEqual([2 ** 32 - 1, 0]);
    expect(() => sampleSeeds(1, 1)).toThrow(/2 to 8/);
    expect(() => sampleSeeds(1, 9)).toThrow(/2 to 8/);
  });
});

describe('export as TRL JSONL', () => {
  const texts = [
    { prompt: 'Question: What is the sun?\nAnswer:', chosen: ' Arr, matey!', rejected: ' It is "hot".' },
    { prompt: 'Say hi', chosen: ' Hi — 👋', rejected: ' No.\nNever.' },
  ];
  const pairs = texts.map((t) => ({ ...t, chosenBy: gen('a'), rejectedBy: gen(null) }));
  const chatGen = (id: string | null) => ({ ...gen(id), chat: true });
  const chatPairs = texts.map((t) => ({ ...t, chosenBy: chatGen('a'), rejectedBy: chatGen(null) }));

  it('writes one {"prompt","chosen","rejected"} object per line', () => {
    const lines = preferencesJsonl(pairs).trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual(texts);
    expect(lines.map((l) => Object.keys(JSON.parse(l)))).toEqual([
      ['prompt', 'chosen', 'rejected'],
      ['prompt', 'chosen', 'rejected'],
    ]);
    expect(preferencesJsonl([])).toBe('');
  });

  it('reads back through the page’s dataset loader as the same preference pairs, none refused', async () => {
    const file = preferencesFile(pairs);
    expect(file.name).toBe(PREFERENCES_FILE);
    const loaded = await loadDatasetFiles([file]);
    const train = loaded.train!;
    expect(train.format).toBe('preference');
    expect(train.badRecords).toBe(0);
    expect(train.examples.map((e) => (e.format === 'preference' ? { prompt: e.prompt, chosen: e.chosen, rejected: e.rejected } : e))).toEqual(texts);
    // Ready for DPO by the rules the page and `lora-playground train --objective dpo` both apply.
    expect(filesReadiness(loaded, false, 'dpo')).toEqual([]);
  });

  it('writes pairs made with the chat template as TRL conversations, which the loader reads back as messages', async () => {
    expect(exportForm(chatPairs)).toEqual({ form: 'conversational', chatAsText: 0 });
    const loaded = await loadDatasetFiles([preferencesFile(chatPairs)]);
    expect(loaded.train!.badRecords).toBe(0);
    expect(filesReadiness(loaded, false, 'dpo')).toEqual([]);
    expect(loaded.train!.examples.map((e) => (e.format === 'preference' ? [e.prompt, e.chosen, e.rejected] : null))).toEqual(
      texts.map((t) => [[{ role: 'user', content: t.prompt }], [{ role: 'assistant', content: t.chosen }], [{ role: 'assistant', content: t.rejected }]]),
    );
  });

  it('writes every pair as text when chat and plain pairs are mixed (one form per file), and counts the chat ones', () => {
    const mixed = [chatPairs[0], pairs[1]];
    expect(exportForm(mixed)).toEqual({ form: 'text', chatAsText: 1 });
    expect(preferencesJsonl(mixed).trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(texts);
  });
});

describe('win rate of tuned over base', () => {
  let t = 0;
  const judged = (verdict: Verdict, leftId: string | null, rightId: string | null, prompt = 'Q', name?: string): Judgment => ({
    id: String(t),
    prompt,
    verdict,
    left: answer(' l', gen(leftId, 1, leftId && (name ?? leftId))),
    right: answer(' r', gen(rightId, 1, rightId && (name ?? rightId))),
    pairId: null,
    at: t++,
  });

  it('counts won, lost, tied and both bad from the tuned side’s point of view, whichever side it was on', () => {
    const rows = winRates([
      judged('right', null, 'a'), // tuned right, right better: won
      judged('left', 'a', null, 'Q2'), // tuned left, left better: won
      judged('left', null, 'a'), // lost
      judged('tie', 'a', null),
      judged('both-bad', null, 'a', 'Q3'),
      judged('right', null, 'b'), // another adapter
      judged('left', 'a', 'b'), // two adapters: not counted
      judged('left', null, null), // base against base: not counted
    ]);
    expect(rows).toEqual([
      { adapterId: 'a', adapterName: 'a', won: 2, lost: 1, tie: 1, bothBad: 1, total: 5, prompts: 3 },
      { adapterId: 'b', adapterName: 'b', won: 1, lost: 0, tie: 0, bothBad: 0, total: 1, prompts: 1 },
    ]);
  });

  it('names an adapter as it was last called', () => {
    const rows = winRates([judged('right', null, 'a', 'Q', 'old name'), judged('right', null, 'a', 'Q', 'new name')]);
    expect(rows[0].adapterName).toBe('new name');
  });

  it('gives shares in whole percent', () => {
    expect(share(2, 3)).toBe('67%');
    expect(share(0, 0)).toBe('—');
  });
});

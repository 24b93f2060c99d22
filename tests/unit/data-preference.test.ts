// Preference pairs through the data layer: TRL's four forms (text or messages, prompt explicit or
// implicit) in every file type, bad pairs named by line, rendering with the prompt masked, packing two
// rows per pair (kept or left out as a unit), and batches of B pairs (2B rows, chosen then rejected).
import { describe, expect, it } from 'vitest';
import {
  describeProblem,
  evalBatches,
  IGNORE_INDEX,
  packExamples,
  parseDatasetText,
  preferencePair,
  prepareTraining,
  renderPreference,
  stepBatches,
  tokenizeExamples,
  type ChatMessage,
  type Example,
  type ParsedDataset,
} from '../../src/lib/data';
import { batchRows } from '../../src/lib/data/batches.ts';
import { byteTokenizer, chatml } from './data-fake-tokenizer.ts';

const jsonl = (...objs: unknown[]) => objs.map((o) => JSON.stringify(o)).join('\n') + '\n';
const errors = (d: ParsedDataset) => d.problems.filter((p) => p.severity === 'error').map(describeProblem);
const user = (content: string): ChatMessage => ({ role: 'user', content });
const assistant = (content: string): ChatMessage => ({ role: 'assistant', content });
const pairOf = (e: Example) => {
  if (e.format !== 'preference') throw new Error('not a pair');
  const r = preferencePair(e);
  if ('problem' in r) throw new Error(r.problem.message);
  return r.pair;
};

describe("TRL's preference forms, in every file type", () => {
  it('text with an explicit prompt, and with an implicit one (the beginning both answers share)', async () => {
    const d = await parseDatasetText(
      jsonl({ prompt: 'The sky is', chosen: ' blue.', rejected: ' green.' }, { chosen: 'The sky is blue.', rejected: 'The sky is green.' }),
      'prefs.jsonl',
    );
    expect(d.format).toBe('preference');
    expect(errors(d)).toEqual([]);
    // TRL's extract_prompt: the space before the first difference goes with the completions
    expect(d.examples.map(pairOf)).toEqual([
      { conversational: false, prompt: 'The sky is', chosen: ' blue.', rejected: ' green.' },
      { conversational: false, prompt: 'The sky is', chosen: ' blue.', rejected: ' green.' },
    ]);
  });

  it('conversations with an explicit prompt, and with an implicit one (the messages both share)', async () => {
    const d = await parseDatasetText(
      jsonl(
        { prompt: [user('Hi')], chosen: [assistant('Hello!')], rejected: [assistant('Go away.')] },
        { chosen: [user('Hi'), assistant('Hello!')], rejected: [user('Hi'), assistant('Go away.')] },
      ),
      'prefs.jsonl',
    );
    expect(errors(d)).toEqual([]);
    const want = { conversational: true, prompt: [user('Hi')], chosen: [assistant('Hello!')], rejected: [assistant('Go away.')] };
    expect(d.examples.map(pairOf)).toEqual([want, want]);
  });

  it('a .json array and a .csv with a header read the same pairs', async () => {
    const json = await parseDatasetText(JSON.stringify([{ prompt: 'Q', chosen: ' yes', rejected: ' no' }]), 'prefs.json');
    const csv = await parseDatasetText('prompt,chosen,rejected\nQ, yes, no\n', 'prefs.csv');
    for (const d of [json, csv]) {
      expect(d.format).toBe('preference');
      expect(errors(d)).toEqual([]);
      expect(pairOf(d.examples[0])).toEqual({ conversational: false, prompt: 'Q', chosen: ' yes', rejected: ' no' });
    }
  });
});

describe('bad pairs are named by line', () => {
  it('empty chosen, chosen = rejected, a missing prompt, mixed forms, answers that end where the prompt does', async () => {
    const d = await parseDatasetText(
      jsonl(
        { prompt: 'p', chosen: ' ', rejected: 'b' },
        { prompt: 'p', chosen: 'same', rejected: 'same' },
        { chosen: 'Yes.', rejected: 'No.' },
        { prompt: 'p', chosen: [assistant('a')], rejected: [assistant('b')] },
        { chosen: 'Hi there', rejected: 'Hi there!' },
        { chosen: [user('a'), assistant('b')], rejected: [user('c'), assistant('d')] },
        { prompt: [user('q')], chosen: [user('x'), assistant('a')], rejected: [assistant('b')] },
        { prompt: 'p', chosen: 'a', rejected: [assistant('b')] },
        { prompt: '', chosen: 'a', rejected: 'b' },
        { prompt: 'fine', chosen: ' a', rejected: ' b' },
      ),
      'prefs.jsonl',
    );
    expect(d.examples).toHaveLength(1);
    expect(d.badRecords).toBe(9);
    expect(errors(d)).toEqual([
      'prefs.jsonl, line 1, field "chosen": is empty',
      'prefs.jsonl, line 2, field "rejected": is the same as chosen: the pair prefers nothing',
      'prefs.jsonl, line 3, field "prompt": is missing: there is no "prompt" field, and chosen and rejected do not begin alike (an implicit prompt is the beginning both share)',
      'prefs.jsonl, line 4, field "prompt": is text but chosen and rejected are lists of messages: give the prompt as messages too',
      'prefs.jsonl, line 5, field "chosen": has nothing after the prompt it shares with the other answer',
      'prefs.jsonl, line 6, field "prompt": is missing: there is no "prompt" field, and chosen and rejected do not begin with the same messages (an implicit prompt is the messages both share)',
      'prefs.jsonl, line 7, field "chosen": holds a user message after the prompt: a completion is the assistant\'s answer',
      'prefs.jsonl, line 8, field "rejected": is a list of messages but chosen is text: a pair gives both the same way',
      'prefs.jsonl, line 9, field "prompt": is empty',
    ]);
  });
});

describe('rendering and tokenizing a pair', () => {
  const where = { file: 'p.jsonl', unit: 'line' as const, index: 1, line: 1 };
  const tok = byteTokenizer({ bos: true });
  const b = (s: string) => [...new TextEncoder().encode(s)].map((x) => x + 3);

  it('text: BOS and the prompt are not counted; the completion and EOS are', async () => {
    const ex: Example = { where, format: 'preference', prompt: 'Q:', chosen: ' yes', rejected: ' no' };
    const r = renderPreference(ex);
    expect(r.chosen.segments).toEqual([{ text: 'Q:', trainable: false }, { text: ' yes', trainable: true }]);
    const t = await tokenizeExamples([ex], tok);
    expect(t.problems).toEqual([]);
    expect(t.examples.map((e) => e.pair)).toEqual(['chosen', 'rejected']);
    expect(Array.from(t.examples[0].ids)).toEqual([1, ...b('Q:'), ...b(' yes'), 2]);
    expect(Array.from(t.examples[0].trainable)).toEqual([0, 0, 0, 1, 1, 1, 1, 1]);
    expect(Array.from(t.examples[1].ids)).toEqual([1, ...b('Q:'), ...b(' no'), 2]);
  });

  it("conversations: the chat template's rendering, counting only the answer's assistant turn", () => {
    const prompt = [user('a'), assistant('earlier answer'), user('b')];
    const ex: Example = { where, format: 'preference', prompt, chosen: [assistant('good')], rejected: [assistant('bad')] };
    const r = renderPreference(ex, { chatTemplate: chatml });
    const counted = r.chosen.segments.filter((s) => s.trainable).map((s) => s.text);
    expect(counted).toEqual(['good<|im_end|>\n']);
    expect(r.chosen.segments.map((s) => s.text).join('')).toBe(chatml([...prompt, assistant('good')], false));
    expect(r.chosen.appendEos).toBe(false);
    expect(() => renderPreference(ex)).toThrow(/no chat_template/);
  });
});

describe('packing pairs', () => {
  const tok = byteTokenizer();
  const where = (i: number) => ({ file: 'p.jsonl', unit: 'line' as const, index: i, line: i });
  const pair = (i: number, prompt: string, chosen: string, rejected: string): Example => ({ where: where(i), format: 'preference', prompt, chosen, rejected });

  it('two rows per pair, chosen then rejected, prompt positions ignored; a pair that loses a whole completion is left out as a unit', async () => {
    const examples = [pair(1, 'Q', 'ab', 'cde'), pair(2, 'a long prompt', 'x', 'y'), pair(3, 'P', 'longer chosen answer', 'r')];
    const t = await tokenizeExamples(examples, tok);
    const T = 8;
    const packed = packExamples(t.examples, { seqLen: T, mode: 'pad', padId: 0 });
    expect(packed.pairs).toBe(true);
    // pair 2's prompt fills the row: neither completion has a counted token left, so it goes whole
    expect(packed.rows).toBe(4);
    expect(packed.leftOut).toEqual([where(2)]);
    expect(packed.warnings.map((w) => `${w.where.index}: ${w.message}`)).toEqual([
      expect.stringMatching(/^2: chosen sequence truncated/),
      expect.stringMatching(/^2: rejected sequence truncated/),
      '2: the pair is not used',
      expect.stringMatching(/^3: chosen sequence truncated: 22 tokens/),
    ]);
    const row = (r: number) => ({ ids: Array.from(packed.inputIds.subarray(r * T, (r + 1) * T)), tg: Array.from(packed.targets.subarray(r * T, (r + 1) * T)) });
    const c = (s: string) => s.charCodeAt(0) + 3;
    // row 0: "Q" "a" "b" EOS; targets: Q→a, a→b, b→EOS (the prompt's own prediction is not counted: Q has nothing before it)
    expect(row(0).ids.slice(0, 4)).toEqual([c('Q'), c('a'), c('b'), 2]);
    expect(row(0).tg.slice(0, 4)).toEqual([c('a'), c('b'), 2, IGNORE_INDEX]);
    expect(row(1).tg.slice(0, 5)).toEqual([c('c'), c('d'), c('e'), 2, IGNORE_INDEX]);
    // pair 3 kept, its chosen sequence truncated to T+1 tokens: all T targets count
    expect(Array.from(packed.countedPerRow)).toEqual([3, 4, 8, 2]);
    expect(() => packExamples(t.examples, { seqLen: T, mode: 'concat', padId: 0 })).toThrow(/never joined/);
  });

  it('prepareTraining splits pairs (never a chosen from its rejected) and packs both splits as pairs', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => ({ prompt: `q${i}`, chosen: ` good ${i}`, rejected: ` bad ${i}` }));
    const parsed = await parseDatasetText(jsonl(...lines), 'prefs.jsonl');
    const prepared = await prepareTraining({ train: parsed, tokenizer: tok, seqLen: 16 });
    expect(prepared.packMode).toBe('pad');
    expect(prepared.train.packed.pairs).toBe(true);
    expect(prepared.validation?.packed.pairs).toBe(true);
    expect(prepared.train.packed.rows).toBe(36);
    expect(prepared.validation?.packed.rows).toBe(4);
    await expect(prepareTraining({ train: parsed, tokenizer: tok, seqLen: 16, packMode: 'concat' })).rejects.toThrow(/one sequence per row/);
  });
});

describe('batches of pairs', () => {
  // 5 pairs of T = 3: row r's ids are 10r..10r+2, every target counted
  const T = 3;
  const rows = 10;
  const data = {
    T,
    rows,
    inputIds: Int32Array.from({ length: rows * T }, (_, i) => 10 * Math.floor(i / T) + (i % T)),
    targets: Int32Array.from({ length: rows * T }, (_, i) => i),
    countedPerRow: new Int32Array(rows).fill(T),
    countedTokens: rows * T,
    warnings: [],
    leftOut: [],
    pairs: true,
  };
  const reference = Float32Array.from({ length: rows }, (_, r) => -r);
  const firstIds = (ids: Int32Array) => Array.from({ length: ids.length / T }, (_, b) => ids[b * T] / 10);

  it('B pairs per micro-batch: 2B rows, each pair chosen then rejected, in the seeded order of the pairs, with their reference log-probs', () => {
    const [b0, b1] = stepBatches(data, 2, 2, 7, 3, reference);
    for (const [k, b] of [b0, b1].entries()) {
      expect(b.B).toBe(4);
      const pairs = batchRows(5, 2, 7, 3 * 2 + k);
      expect(firstIds(b.ids)).toEqual(pairs.flatMap((p) => [2 * p, 2 * p + 1]));
      expect(Array.from(b.reference!)).toEqual(pairs.flatMap((p) => [-2 * p, -2 * p - 1]));
    }
    // every pair once per epoch
    const epoch = Array.from({ length: 5 }, (_, s) => firstIds(stepBatches(data, 1, 1, 3, s)[0].ids)).flat();
    expect([...epoch].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(() => stepBatches({ ...data, rows: 9 }, 2, 1, 0, 0)).toThrow(/whole number of pairs/);
  });

  it('evaluation visits every pair once, the last batch topped up with a padding pair that counts nothing', () => {
    const batches = evalBatches(data, 2, 0, reference);
    expect(batches.map((b) => b.B)).toEqual([4, 4, 4]);
    expect(firstIds(batches[2].ids)).toEqual([8, 9, 0, 0]);
    expect(Array.from(batches[2].targets.subarray(2 * T))).toEqual(new Array(2 * T).fill(IGNORE_INDEX));
    expect(Array.from(batches[2].reference!)).toEqual([-8, -9, 0, 0]);
  });
});

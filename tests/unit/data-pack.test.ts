// Packing into (B,T) rows with the fixtures' loss convention, splits, histogram, samples.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  assignFiles,
  IGNORE_INDEX,
  packExamples,
  parseDatasetText,
  prepareTraining,
  previewTokenized,
  SAMPLE_DATASETS,
  splitExamples,
  splitRoleFromName,
  tokenHistogram,
  tokenizeExamples,
  validationFormatMismatch,
  type TokenizedExample,
} from '../../src/lib/data';
import { createRng } from '../../src/lib/random.ts';
import { byteTokenizer, chatml } from './data-fake-tokenizer';

const ex = (ids: number[], trainable: number[], index = 1): TokenizedExample => ({
  where: { file: 'd.jsonl', unit: 'line', index, line: index },
  ids: Int32Array.from(ids),
  trainable: Uint8Array.from(trainable),
});
const X = IGNORE_INDEX;

describe("'pad' packing: one example per row", () => {
  it('targets are the next token where it is trainable, -100 elsewhere and in padding', () => {
    const p = packExamples([ex([10, 11, 12, 13], [0, 0, 1, 1])], { seqLen: 5, mode: 'pad', padId: 0 });
    expect(p.rows).toBe(1);
    expect(Array.from(p.inputIds)).toEqual([10, 11, 12, 13, 0]);
    expect(Array.from(p.targets)).toEqual([X, 12, 13, X, X]);
    expect(p.countedTokens).toBe(2);
    expect(p.warnings).toEqual([]);
  });

  it('an example of exactly T+1 tokens fits with no warning', () => {
    const p = packExamples([ex([1, 2, 3, 4], [0, 1, 1, 1])], { seqLen: 3, mode: 'pad', padId: 0 });
    expect(Array.from(p.inputIds)).toEqual([1, 2, 3]);
    expect(Array.from(p.targets)).toEqual([2, 3, 4]);
    expect(p.warnings).toEqual([]);
  });

  it('a longer example is truncated with a warning naming it and what was cut', () => {
    const p = packExamples([ex([1, 2, 3, 4, 5, 6, 7, 8], [0, 0, 1, 1, 1, 1, 1, 1], 7)], { seqLen: 4, mode: 'pad', padId: 0 });
    expect(Array.from(p.inputIds)).toEqual([1, 2, 3, 4]);
    expect(Array.from(p.targets)).toEqual([X, 3, 4, 5]);
    expect(p.warnings).toHaveLength(1);
    expect(p.warnings[0].where.index).toBe(7);
    expect(p.warnings[0].severity).toBe('warning');
    expect(p.warnings[0].message).toBe(
      'truncated: 8 tokens, longer than the 5 a training row holds (T+1); the last 3 tokens are cut, 3 of them counted by the loss',
    );
  });

  it('an example whose trainable part is entirely cut is not used, and the warning says so', () => {
    const p = packExamples([ex([1, 2, 3, 4, 5, 6], [0, 0, 0, 0, 1, 1])], { seqLen: 2, mode: 'pad', padId: 0 });
    expect(p.rows).toBe(0);
    expect(p.warnings[0].message).toMatch(/nothing the loss counts is left, so this example is not used/);
    expect(p.leftOut.map((w) => w.index)).toEqual([1]);
  });

  it('leftOut names exactly the examples packed into no row', () => {
    const p = packExamples(
      [ex([1, 2, 3], [0, 1, 1], 1), ex([4, 5, 6, 7, 8], [0, 0, 0, 1, 1], 2), ex([9, 10], [0, 0], 3), ex([11, 12], [0, 1], 4)],
      { seqLen: 2, mode: 'pad', padId: 0 },
    );
    expect(p.rows).toBe(2);
    expect(p.leftOut.map((w) => w.index)).toEqual([2, 3]);
  });
});

describe("'concat' packing: examples end to end, cut into rows", () => {
  it('row k covers stream tokens kT..kT+T, each token after the first predicted exactly once', () => {
    const p = packExamples([ex([1, 2, 3], [1, 1, 1]), ex([4, 5], [1, 1])], { seqLen: 2, mode: 'concat', padId: 0 });
    expect(p.rows).toBe(2);
    expect(Array.from(p.inputIds)).toEqual([1, 2, 3, 4]);
    expect(Array.from(p.targets)).toEqual([2, 3, 4, 5]);
    expect(p.leftOut).toEqual([]);
    expect(p.warnings).toEqual([]);
  });

  it('a partial last row is padded with -100 targets', () => {
    const p = packExamples([ex([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 1])], { seqLen: 4, mode: 'concat', padId: 9 });
    expect(Array.from(p.inputIds)).toEqual([1, 2, 3, 4, 5, 6, 9, 9]);
    expect(Array.from(p.targets)).toEqual([2, 3, 4, 5, 6, X, X, X]);
  });

  it('on random data: counted targets = trainable tokens after the first, and targets[t] = input[t+1] inside a row', () => {
    const rand = createRng(3);
    const examples: TokenizedExample[] = [];
    let trainable = 0;
    let first = -1;
    for (let i = 0; i < 40; i++) {
      const L = 1 + Math.floor(rand() * 30);
      const ids = Array.from({ length: L }, () => 3 + Math.floor(rand() * 250));
      const flags = Array.from({ length: L }, () => (rand() < 0.6 ? 1 : 0));
      if (first < 0) first = flags[0];
      trainable += flags.reduce((s: number, f) => s + f, 0);
      examples.push(ex(ids, flags, i + 1));
    }
    const T = 16;
    const p = packExamples(examples, { seqLen: T, mode: 'concat', padId: 0 });
    expect(p.countedTokens).toBe(trainable - first);
    for (let r = 0; r < p.rows; r++) {
      for (let t = 0; t + 1 < T; t++) {
        const tg = p.targets[r * T + t];
        if (tg !== X) expect(tg).toBe(p.inputIds[r * T + t + 1]);
      }
    }
  });
});

describe('train / validation split', () => {
  it('MLX-style names map to splits', () => {
    expect(splitRoleFromName('train.jsonl')).toBe('train');
    expect(splitRoleFromName('data/valid.jsonl')).toBe('validation');
    expect(splitRoleFromName('validation.csv')).toBe('validation');
    expect(splitRoleFromName('test.jsonl')).toBe('test');
    expect(splitRoleFromName('my-data.jsonl')).toBeNull();
    expect(assignFiles(['valid.jsonl', 'test.jsonl', 'train.jsonl'])).toMatchObject({ train: 2, validation: 0, test: 1 });
  });

  it('two unnamed files: the first trains, the second validates', () => {
    const a = assignFiles(['mine.jsonl', 'held-out.jsonl', 'third.jsonl']);
    expect(a).toMatchObject({ train: 0, validation: 1, test: null });
    expect(a.notes.join(' ')).toMatch(/third\.jsonl is not used/);
  });

  it('automatic split: about 10%, at least one, seeded, disjoint, order kept', () => {
    const items = Array.from({ length: 95 }, (_, i) => i);
    const s = splitExamples(items, { seed: 5 });
    expect(s.validation).toHaveLength(10);
    expect(s.train).toHaveLength(85);
    expect([...s.train, ...s.validation].sort((a, b) => a - b)).toEqual(items);
    expect(s.train).toEqual([...s.train].sort((a, b) => a - b));
    expect(splitExamples(items, { seed: 5 })).toEqual(s);
    expect(splitExamples(items, { seed: 6 }).validation).not.toEqual(s.validation);
    expect(splitExamples([1, 2, 3], {}).validation).toHaveLength(1);
    expect(splitExamples([1, 2], {}).train).toHaveLength(1);
    const one = splitExamples(['only'], {});
    expect(one).toMatchObject({ train: ['only'], validation: [] });
    expect(one.note).toMatch(/too few/);
  });

  it('a validation file in another format is named', () => {
    expect(validationFormatMismatch({ file: 'train.jsonl', format: 'text' }, { file: 'valid.jsonl', format: 'messages' })).toMatch(
      /mixed formats: valid\.jsonl is messages data but train\.jsonl is text data/,
    );
    expect(validationFormatMismatch({ file: 'a', format: 'text' }, { file: 'b', format: 'text' })).toBeNull();
  });
});

describe('preview', () => {
  it('the histogram has round bins that hold every length once', () => {
    const lengths = Array.from({ length: 100 }, (_, i) => 3 + ((i * 37) % 120));
    const h = tokenHistogram(lengths, 12);
    expect(h.counts.reduce((s, c) => s + c, 0)).toBe(100);
    expect(h.counts.length).toBeLessThanOrEqual(12);
    const step = h.edges[1] - h.edges[0];
    expect([1, 2, 5, 10, 20, 50, 100]).toContain(step);
    for (const x of lengths) {
      const bin = h.counts.findIndex((_, i) => x >= h.edges[i] && x < h.edges[i + 1]);
      expect(bin).toBeGreaterThanOrEqual(0);
    }
    expect(h.min).toBe(Math.min(...lengths));
    expect(h.max).toBe(Math.max(...lengths));
    expect(tokenHistogram([5, 5, 5]).counts).toEqual([3]);
    expect(tokenHistogram([]).counts).toEqual([]);
  });

  it('previewTokenized counts examples, tokens and truncations', () => {
    const p = previewTokenized([ex([1, 2, 3], [0, 1, 1]), ex(Array.from({ length: 20 }, (_, i) => i + 3), new Array(20).fill(1), 2)], {
      seqLen: 8,
      padId: 0,
      mode: 'pad',
    });
    expect(p.examples).toBe(2);
    expect(Array.from(p.lengths)).toEqual([3, 20]);
    expect(p.totalTokens).toBe(23);
    expect(p.trainableTokens).toBe(2 + 19);
    expect(p.warnings).toHaveLength(1);
    expect(p.warnings[0].where.index).toBe(2);
    expect(p.countedTokens).toBe(2 + 8);
  });
});

describe('built-in samples', () => {
  for (const s of SAMPLE_DATASETS) {
    it(`${s.file} parses cleanly as ${s.format} with ${s.examples} examples and tokenizes`, async () => {
      const text = readFileSync(new URL(`../../static/samples/${s.file}`, import.meta.url), 'utf8');
      const d = await parseDatasetText(text, s.file);
      expect(d.problems).toEqual([]);
      expect(d.format).toBe(s.format);
      expect(d.examples).toHaveLength(s.examples);
      const tok = await tokenizeExamples(d.examples, byteTokenizer(), { chatTemplate: chatml });
      expect(tok.problems).toEqual([]);
      for (const t of tok.examples) expect(t.trainable.some((f) => f === 1)).toBe(true);
    });
  }
});

describe('prepareTraining: parsed files to training rows', () => {
  const file = (n: number) => jsonlOf(Array.from({ length: n }, (_, i) => ({ prompt: `Q${i}:`, completion: ` answer ${i}` })));
  const jsonlOf = (objs: unknown[]) => objs.map((o) => JSON.stringify(o)).join('\n');

  it('holds out about 10% automatically and packs both splits', async () => {
    const train = await parseDatasetText(file(30), 'qa.jsonl');
    const p = await prepareTraining({ train, tokenizer: byteTokenizer(), seqLen: 32, seed: 1 });
    expect(p.split).toBe('auto');
    expect(p.format).toBe('prompt-completion');
    expect(p.packMode).toBe('pad');
    expect(p.train.examples).toHaveLength(27);
    expect(p.validation!.examples).toHaveLength(3);
    expect(p.train.packed.rows).toBe(27);
    expect(p.problems).toEqual([]);
    // No example is in both splits.
    const key = (e: { where: { index: number } }) => e.where.index;
    const trainIdx = new Set(p.train.examples.map(key));
    expect(p.validation!.examples.some((e) => trainIdx.has(key(e)))).toBe(false);
  });

  it('uses a validation file when given, and refuses one in another format', async () => {
    const train = await parseDatasetText(file(5), 'train.jsonl');
    const valid = await parseDatasetText(file(2), 'valid.jsonl');
    const p = await prepareTraining({ train, validation: valid, tokenizer: byteTokenizer(), seqLen: 32 });
    expect(p.split).toBe('file');
    expect(p.train.examples).toHaveLength(5);
    expect(p.validation!.examples).toHaveLength(2);
    const text = await parseDatasetText('{"text": "x"}', 'valid.jsonl');
    await expect(prepareTraining({ train, validation: text, tokenizer: byteTokenizer(), seqLen: 32 })).rejects.toThrow(/mixed formats/);
  });

  it('reports truncation of long examples among its problems', async () => {
    const train = await parseDatasetText(jsonlOf([{ prompt: 'p', completion: 'x'.repeat(100) }, { prompt: 'p', completion: 'short' }]), 'qa.jsonl');
    const p = await prepareTraining({ train, tokenizer: byteTokenizer(), seqLen: 16, validationFraction: 0 });
    expect(p.problems.filter((x) => /truncated/.test(x.message))).toHaveLength(1);
  });
});

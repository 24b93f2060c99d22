// Fuzzing the dataset readers (.jsonl, .json, .csv, .tsv, .txt, and a name with no known extension):
// any bytes, and text shaped like each format then broken, must give a ParsedDataset — parseDatasetFile
// never throws for bad input — within the time budget, with every problem a bounded sentence.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DataProblem, describeProblem, parseDatasetFile, parseDatasetText, type ParsedDataset } from '../../src/lib/data';
import { fuzzCase, MAX_MESSAGE_CHARS, params } from './harness';

const EXTENSIONS = ['jsonl', 'json', 'csv', 'tsv', 'txt', 'dat'] as const;
const FIELDS = ['text', 'prompt', 'completion', 'messages', 'instruction', 'input', 'output', 'chosen', 'rejected', 'role', 'content'];

/** What every parse must give, whatever the input. */
function checkParsed(d: ParsedDataset): void {
  expect(d.examples.length).toBeLessThanOrEqual(d.records);
  expect(d.badRecords).toBeLessThanOrEqual(d.records);
  for (const p of d.problems as DataProblem[]) {
    const line = describeProblem(p);
    expect(line.length, line.slice(0, 200)).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
  }
  for (const note of d.notes) expect(note.length, note.slice(0, 200)).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
}

async function parseBytes(cls: string, name: string, bytes: Uint8Array): Promise<void> {
  const r = await fuzzCase(cls, bytes.length, () => parseDatasetFile({ name, bytes }), []);
  if (r.ok) checkParsed(r.value);
}

async function parseText(cls: string, name: string, text: string): Promise<void> {
  const r = await fuzzCase(cls, text.length, () => parseDatasetText(text, name), []);
  if (r.ok) checkParsed(r.value);
}

const key = fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 12 }));
/** A JSON value shaped like a record of some format, often almost right. */
const record = fc.oneof(
  fc.dictionary(key, fc.oneof(fc.string({ maxLength: 40 }), fc.jsonValue({ maxDepth: 3 })), { maxKeys: 6 }),
  fc.record({
    messages: fc.array(fc.record({ role: fc.oneof(fc.constantFrom('system', 'user', 'assistant', 'tool'), fc.string({ maxLength: 8 })), content: fc.oneof(fc.string({ maxLength: 40 }), fc.jsonValue({ maxDepth: 2 })) }, { requiredKeys: [] }), { maxLength: 5 }),
  }),
  fc.jsonValue({ maxDepth: 4 }),
);

/** Text broken the ways files break: cut short, a character dropped, stray quotes, brackets and separators. */
const breakText = (text: string) =>
  fc.oneof(
    fc.constant(text),
    fc.nat({ max: text.length }).map((n) => text.slice(0, n)),
    fc.tuple(fc.nat({ max: text.length }), fc.constantFrom('"', '{', '}', '[', ']', ',', '\n', '\t', '\r', '\\', '\u0000', '\ufeff', '""', '\n\n')).map(
      ([at, s]) => text.slice(0, at) + s + text.slice(at),
    ),
  );

const jsonl = fc.array(record, { maxLength: 20 }).map((rs) => rs.map((r) => JSON.stringify(r)).join('\n')).chain(breakText);
const jsonArray = fc
  .tuple(fc.array(record, { maxLength: 20 }), fc.constantFrom(0, 2))
  .map(([rs, indent]) => JSON.stringify(rs, null, indent))
  .chain(breakText);
const cell = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('"', '""', '"a,b"', '"line\nbreak"', '[{"role":"user","content":"x"}]', '[', ''));
const delimited = (sep: string) =>
  fc
    .tuple(fc.array(key, { minLength: 1, maxLength: 5 }), fc.array(fc.array(cell, { maxLength: 6 }), { maxLength: 15 }))
    .map(([header, rows]) => [header, ...rows].map((r) => r.join(sep)).join('\n'))
    .chain(breakText);
const paragraphs = fc.array(fc.string({ maxLength: 80 }), { maxLength: 20 }).map((ps) => ps.join('\n\n')).chain(breakText);

/** Records whose problems would quote a lot of the input: many or long field names, a long role, a wide header. */
const wordy = fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 5000 })).chain(([n, len]) =>
  fc.constantFrom(
    JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`${'k'.repeat(len % 300)}${i}`, 1]))),
    JSON.stringify({ messages: [{ role: 'r'.repeat(len * 20), content: 'x' }] }),
    JSON.stringify({ text: 1, [`${'f'.repeat(len * 20)}`]: 2 }),
    `${Array.from({ length: n }, (_, i) => `col${'c'.repeat(len % 100)}${i % 50}`).join(',')}\n1,2\n`,
  ),
);

/** About 1 MB: one record repeated, or a pathological run of one character. */
const big = fc.oneof(
  fc.tuple(record, fc.integer({ min: 1000, max: 20_000 })).map(([r, n]) => `${JSON.stringify(r)}\n`.repeat(n).slice(0, 1_100_000)),
  fc.tuple(fc.constantFrom('[', '{', '"', ',', '\n', '\\', 'a', '[{', '"\\'), fc.integer({ min: 100_000, max: 1_000_000 })).map(([c, n]) => c.repeat(Math.ceil(n / c.length))),
);

describe('dataset readers under fuzzing: a result with bounded messages, never an exception, within the budget', () => {
  it('any bytes, under every extension', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...EXTENSIONS), fc.uint8Array({ maxLength: 4000, size: 'large' }), async (ext, bytes) => parseBytes('dataset bytes', `fuzz.${ext}`, bytes)),
      params(600),
    );
  });

  it('JSON Lines, broken', async () => {
    await fc.assert(fc.asyncProperty(jsonl, async (t) => parseText('dataset .jsonl', 'fuzz.jsonl', t)), params(400));
  });

  it('JSON arrays, broken', async () => {
    await fc.assert(fc.asyncProperty(jsonArray, async (t) => parseText('dataset .json', 'fuzz.json', t)), params(400));
  });

  it('CSV and TSV, broken', async () => {
    await fc.assert(fc.asyncProperty(delimited(','), async (t) => parseText('dataset .csv', 'fuzz.csv', t)), params(400));
    await fc.assert(fc.asyncProperty(delimited('\t'), async (t) => parseText('dataset .tsv', 'fuzz.tsv', t)), params(300));
  });

  it('plain text, and text in a file whose name says nothing', async () => {
    await fc.assert(fc.asyncProperty(paragraphs, async (t) => parseText('dataset .txt', 'fuzz.txt', t)), params(300));
    await fc.assert(fc.asyncProperty(fc.oneof(jsonl, jsonArray, paragraphs), async (t) => parseText('dataset no extension', 'fuzz', t)), params(200));
  });

  it('records whose problems would quote much of the file', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...EXTENSIONS), wordy, async (ext, t) => parseText('dataset wordy', `fuzz.${ext}`, t)), params(60));
  });

  it('inputs of about a megabyte, under every extension', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...EXTENSIONS), big, async (ext, t) => parseText('dataset 1 MB', `fuzz.${ext}`, t)), params(24));
  });
});

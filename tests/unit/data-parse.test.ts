// Dataset files → examples and named problems: every reader, every format, every kind of bad input.
import { describe, expect, it } from 'vitest';
import {
  decodeDatasetBytes,
  describeWhere,
  firstInvalidUtf8,
  MAX_DATASET_BYTES,
  parseDatasetFile,
  parseDatasetText,
  readyToTrain,
  type DataProblem,
  type ParsedDataset,
} from '../../src/lib/data';

const enc = (s: string) => new TextEncoder().encode(s);
const parse = (name: string, text: string, opts = {}) => parseDatasetFile({ name, bytes: enc(text) }, opts);
const jsonl = (...objs: unknown[]) => objs.map((o) => JSON.stringify(o)).join('\n') + '\n';
const errors = (d: ParsedDataset) => d.problems.filter((p) => p.severity === 'error');
/** A problem as one line: `train.jsonl, line 12, field "messages[1].role": unknown role "bot" …`. */
const said = (p: DataProblem) => `${describeWhere(p.where)}${p.field ? `, field "${p.field}"` : ''}: ${p.message}`;

describe('formats are detected per record', () => {
  it('{text}', async () => {
    const d = await parse('a.jsonl', jsonl({ text: 'hello world' }, { text: 'second' }));
    expect(d.format).toBe('text');
    expect(d.examples).toHaveLength(2);
    expect(d.examples[0]).toMatchObject({ format: 'text', text: 'hello world', where: { unit: 'line', index: 1 } });
    expect(d.problems).toEqual([]);
  });

  it('{prompt, completion}', async () => {
    const d = await parse('a.jsonl', jsonl({ prompt: 'Q:', completion: ' A' }));
    expect(d.format).toBe('prompt-completion');
    expect(d.examples[0]).toMatchObject({ prompt: 'Q:', completion: ' A' });
  });

  it('{messages}', async () => {
    const messages = [
      { role: 'system', content: 's' },
      { role: 'user', content: 'u' },
      { role: 'assistant', content: 'a' },
    ];
    const d = await parse('a.jsonl', jsonl({ messages }));
    expect(d.format).toBe('messages');
    expect(d.examples[0]).toMatchObject({ format: 'messages', messages });
  });

  it('Alpaca {instruction, input, output}, input optional', async () => {
    const d = await parse('a.jsonl', jsonl({ instruction: 'Add', input: '2 3', output: '5' }, { instruction: 'Greet', output: 'Hi' }));
    expect(d.format).toBe('alpaca');
    expect(d.examples.map((e) => (e.format === 'alpaca' ? e.input : null))).toEqual(['2 3', '']);
  });

  it('DPO {prompt, chosen, rejected} is kept: supervised fine-tuning refuses it, a preference objective trains on it', async () => {
    const d = await parse('a.jsonl', jsonl({ prompt: 'p', chosen: 'good', rejected: 'bad' }));
    expect(d.format).toBe('preference');
    expect(d.examples).toHaveLength(1);
    const sft = readyToTrain(d, { skipBadRecords: true });
    expect(sft.ok).toBe(false);
    expect(!sft.ok && sft.reason).toMatch(/Supervised fine-tuning cannot train on it.*--objective dpo/);
    expect(readyToTrain(d, { skipBadRecords: true, objective: 'dpo' })).toEqual({ ok: true });
    const text = await parse('b.jsonl', jsonl({ prompt: 'p', completion: 'c' }));
    const dpo = readyToTrain(text, { skipBadRecords: true, objective: 'dpo' });
    expect(!dpo.ok && dpo.reason).toBe('b.jsonl is {prompt, completion} data, but a preference objective (DPO, SimPO, ORPO) trains on pairs: {prompt, chosen, rejected}');
  });

  it('extra fields are ignored', async () => {
    const d = await parse('a.jsonl', jsonl({ text: 'x', id: 7, source: 'web' }));
    expect(d.examples).toHaveLength(1);
    expect(d.problems).toEqual([]);
  });
});

describe('file types', () => {
  it('.json array, pretty-printed, with line numbers per item', async () => {
    const text = '[\n  {"prompt": "a", "completion": "b"},\n  {"prompt": "c",\n   "completion": "d"},\n  {"prompt": "e", "completion": 5}\n]\n';
    const d = await parse('data.json', text);
    expect(d.kind).toBe('json');
    expect(d.examples).toHaveLength(2);
    expect(errors(d)).toHaveLength(1);
    expect(said(errors(d)[0])).toBe('data.json, item 3 (line 5), field "completion": must be a string, found a number');
  });

  it('.json array: a broken item is named and the others are still read', async () => {
    const text = '[{"text": "one"},\n{"text": "two",},\n{"text": "three"}]';
    const d = await parse('data.json', text);
    expect(d.examples.map((e) => (e.format === 'text' ? e.text : ''))).toEqual(['one', 'three']);
    expect(said(errors(d)[0])).toMatch(/^data\.json, item 2 \(line 2\): invalid JSON/);
  });

  it('.json that is not an array is refused with the reason', async () => {
    const d = await parse('data.json', '"just a string"');
    expect(errors(d)[0].message).toMatch(/must be an array of objects/);
  });

  it('.json that is really JSON Lines is read as JSON Lines, and says so', async () => {
    const d = await parse('data.json', jsonl({ text: 'a' }, { text: 'b' }));
    expect(d.examples).toHaveLength(2);
    expect(d.notes.join(' ')).toMatch(/read as JSON Lines/);
  });

  it('.json: an unclosed array is named', async () => {
    const d = await parse('data.json', '[{"text": "a"}, {"text": "b"');
    expect(d.examples).toHaveLength(1);
    expect(said(errors(d)[0])).toMatch(/item 2.*unterminated string or a missing "\]"/);
  });

  it('.csv with a header row and RFC 4180 quoting (commas, quotes, newlines inside quotes)', async () => {
    const text =
      'prompt,completion\n' +
      'plain,answer\n' +
      '"with, comma","say ""hi"""\n' +
      '"two\nlines",end\n' +
      'last,row\n';
    const d = await parse('d.csv', text);
    expect(d.kind).toBe('csv');
    expect(d.format).toBe('prompt-completion');
    expect(d.problems).toEqual([]);
    expect(d.examples.map((e) => (e.format === 'prompt-completion' ? [e.prompt, e.completion] : []))).toEqual([
      ['plain', 'answer'],
      ['with, comma', 'say "hi"'],
      ['two\nlines', 'end'],
      ['last', 'row'],
    ]);
    // Rows are counted as a spreadsheet counts them; the quoted newline moves the next row's line.
    expect(d.examples[3].where).toMatchObject({ unit: 'row', index: 5, line: 6 });
  });

  it('.csv: a row with the wrong number of fields is named with its row', async () => {
    const d = await parse('d.csv', 'text\nok\n"a",b\n');
    expect(said(errors(d)[0])).toBe('d.csv, row 3 (line 3): 2 fields, but the header has 1 columns (text)');
  });

  it('.csv: an unclosed quote is named with the row and line it opened on', async () => {
    const d = await parse('d.csv', 'text\nfine\n"never closed\nmore\n');
    expect(d.examples).toHaveLength(1);
    expect(said(errors(d)[0])).toBe('d.csv, row 3 (line 3): a quoted field is never closed: the file ends inside quotes');
  });

  it('.csv: a messages column may hold a JSON conversation', async () => {
    const conv = JSON.stringify([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello, friend' },
    ]);
    const d = await parse('d.csv', `messages\n"${conv.replace(/"/g, '""')}"\n`);
    expect(d.format).toBe('messages');
    expect(d.examples).toHaveLength(1);
  });

  it('.csv column names match regardless of case', async () => {
    const d = await parse('d.csv', 'Instruction,Input,Output\nAdd,1 2,3\n');
    expect(d.format).toBe('alpaca');
  });

  it('.tsv uses tabs', async () => {
    const d = await parse('d.tsv', 'prompt\tcompletion\na, b\tc\n');
    expect(d.examples[0]).toMatchObject({ prompt: 'a, b', completion: 'c' });
  });

  it('.txt: one example per blank-line-separated paragraph', async () => {
    const d = await parse('t.txt', 'First para\nstill first.\n\n\nSecond.\n   \nThird.');
    expect(d.format).toBe('text');
    expect(d.examples.map((e) => (e.format === 'text' ? e.text : ''))).toEqual(['First para\nstill first.', 'Second.', 'Third.']);
    expect(d.examples[1].where).toMatchObject({ unit: 'paragraph', index: 2, line: 5 });
  });

  it('.txt without blank lines is one example', async () => {
    const d = await parse('t.txt', 'line one\nline two\nline three\n');
    expect(d.examples).toHaveLength(1);
  });

  it('an unknown extension is read by sniffing the content, and says so', async () => {
    const d = await parse('data', jsonl({ text: 'a' }));
    expect(d.kind).toBe('jsonl');
    expect(d.examples).toHaveLength(1);
    expect(d.notes.join(' ')).toMatch(/no known extension/);
  });
});

describe('bad input: every problem named with its line and reason', () => {
  it('invalid JSON on a line', async () => {
    const d = await parse('train.jsonl', '{"text": "ok"}\n{"text": "broken"\n{"text": "fine"}\n');
    expect(d.examples).toHaveLength(2);
    expect(d.badRecords).toBe(1);
    expect(said(errors(d)[0])).toMatch(/^train\.jsonl, line 2: invalid JSON \(/);
  });

  it('a line that is JSON but not an object', async () => {
    const d = await parse('train.jsonl', '["text", "x"]\n');
    expect(said(errors(d)[0])).toBe('train.jsonl, line 1: expected a JSON object, found an array');
  });

  it('a missing field', async () => {
    const d = await parse('train.jsonl', jsonl({ instruction: 'x', output: 'y' }, { instruction: 'x', input: 'z' }));
    // line 2 has no output: by its fields it is not Alpaca, so it is named as an unknown format
    expect(said(errors(d)[0])).toMatch(/line 2: no known format: found fields "instruction", "input"/);
  });

  it('a wrongly typed field', async () => {
    const d = await parse('train.jsonl', jsonl({ prompt: 'p', completion: 'c' }, { prompt: 'p', completion: ['c'] }));
    expect(said(errors(d)[0])).toBe('train.jsonl, line 2, field "completion": must be a string, found an array');
  });

  it('an empty completion (nothing to learn)', async () => {
    const d = await parse('train.jsonl', jsonl({ prompt: 'p', completion: '  ' }));
    expect(said(errors(d)[0])).toBe('train.jsonl, line 1, field "completion": is empty');
  });

  it('an unknown role, a missing content and no assistant turn', async () => {
    const d = await parse(
      'chat.jsonl',
      jsonl(
        { messages: [{ role: 'user', content: 'a' }, { role: 'bot', content: 'b' }] },
        { messages: [{ role: 'user' }, { role: 'assistant', content: 'b' }] },
        { messages: [{ role: 'user', content: 'only a question' }] },
        { messages: 'hello' },
      ),
    );
    const msgs = errors(d).map(said);
    expect(msgs).toEqual([
      'chat.jsonl, line 1, field "messages[1].role": unknown role "bot" (expected system, user, assistant, tool)',
      'chat.jsonl, line 2, field "messages[0].content": missing field "content"',
      'chat.jsonl, line 3, field "messages": has no assistant message with content: nothing to train on',
      'chat.jsonl, line 4, field "messages": must be an array of {role, content} messages, found a string',
    ]);
    expect(d.examples).toHaveLength(0);
    expect(d.badRecords).toBe(4);
  });

  it('mixed formats: the minority records are named, the majority kept', async () => {
    const d = await parse('mix.jsonl', jsonl({ text: 'a' }, { prompt: 'p', completion: 'c' }, { text: 'b' }, { text: 'c' }));
    expect(d.format).toBe('text');
    expect(d.examples).toHaveLength(3);
    expect(said(errors(d)[0])).toBe(
      'mix.jsonl, line 2: mixed formats: this line is {prompt, completion}, but the file is {text} (3 of 4 records); a file must hold one format',
    );
  });

  it('an empty file', async () => {
    const d = await parse('train.jsonl', '');
    expect(said(errors(d)[0])).toBe('train.jsonl: the file is empty');
    const d2 = await parse('train.jsonl', '\n  \n');
    expect(errors(d2)[0].message).toBe('the file is empty');
  });

  it('a JSON array with no items', async () => {
    const d = await parse('a.json', '[]');
    expect(errors(d)[0].message).toMatch(/holds no examples/);
  });

  it('bytes that are not UTF-8, named with their line', async () => {
    const bytes = new Uint8Array([...enc('{"text": "ok"}\n{"text": "caf'), 0xe9, ...enc('"}\n')]);
    const d = await parseDatasetFile({ name: 'latin1.jsonl', bytes });
    expect(said(errors(d)[0])).toMatch(/^latin1\.jsonl, line 2: not UTF-8 text \(byte 0xe9 at offset 28\)/);
    expect(d.examples).toHaveLength(0);
  });

  it('UTF-16 text and binary files are refused', async () => {
    const utf16 = await parseDatasetFile({ name: 'a.txt', bytes: new Uint8Array([0xff, 0xfe, 0x41, 0x00]) });
    expect(errors(utf16)[0].message).toMatch(/UTF-16/);
    const bin = await parseDatasetFile({ name: 'a.jsonl', bytes: new Uint8Array([0x7b, 0x00, 0x01, 0x02]) });
    expect(errors(bin)[0].message).toMatch(/NUL byte/);
  });

  it('a line over the length limit', async () => {
    const d = await parse('a.jsonl', jsonl({ text: 'short' }, { text: 'x'.repeat(200) }), { maxLineChars: 100 });
    expect(d.examples).toHaveLength(1);
    expect(said(errors(d)[0])).toBe('a.jsonl, line 2: too long: 211 characters, over the limit of 100 per line');
  });

  it('a file over the size limit is refused before reading, naming the limit', async () => {
    let read = false;
    const big = {
      name: 'huge.jsonl',
      size: MAX_DATASET_BYTES + 1,
      arrayBuffer: async () => {
        read = true;
        return new ArrayBuffer(0);
      },
    };
    const d = await parseDatasetFile(big);
    expect(read).toBe(false);
    expect(said(errors(d)[0])).toBe('huge.jsonl: file is 50 MB, over the limit of 50 MB (52,428,800 bytes)');
  });

  it('bad lines must be skipped explicitly before training', async () => {
    const d = await parse('a.jsonl', '{"text": "ok"}\nnot json\n');
    const refused = readyToTrain(d, { skipBadRecords: false });
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.reason).toBe('a.jsonl has 1 bad record: skip it or fix the file');
    expect(readyToTrain(d, { skipBadRecords: true })).toEqual({ ok: true });
  });
});

describe('encoding details', () => {
  it('a UTF-8 BOM and CRLF line endings are fine', async () => {
    const text = '\ufeff{"prompt": "a", "completion": "b"}\r\n{"prompt": "c", "completion": "d"}\r\n';
    const d = await parse('win.jsonl', text);
    expect(d.problems).toEqual([]);
    expect(d.examples).toHaveLength(2);
    expect(d.notes.join(' ')).toMatch(/byte-order mark.*removed/);
  });

  it('CRLF inside a CSV and a .txt', async () => {
    const csv = await parse('w.csv', '\ufefftext\r\n"a\r\nb"\r\nc\r\n');
    expect(csv.examples.map((e) => (e.format === 'text' ? e.text : ''))).toEqual(['a\nb', 'c']);
    const txt = await parse('w.txt', 'one\r\n\r\ntwo\r\n');
    expect(txt.examples).toHaveLength(2);
  });

  it('multi-byte text survives', async () => {
    const d = await parse('u.jsonl', jsonl({ text: 'naïve café — 日本語 🙂' }));
    expect(d.examples[0]).toMatchObject({ text: 'naïve café — 日本語 🙂' });
  });

  it('firstInvalidUtf8 agrees with the fatal decoder on edge cases', () => {
    const cases: number[][] = [
      [0x41, 0xc3, 0xa9], // é: valid
      [0xf0, 0x9f, 0x99, 0x82], // emoji: valid
      [0xc0, 0xaf], // overlong
      [0xed, 0xa0, 0x80], // surrogate
      [0xf4, 0x90, 0x80, 0x80], // > U+10FFFF
      [0x41, 0xe2, 0x82], // truncated
      [0x80], // lone continuation
    ];
    for (const c of cases) {
      const bytes = new Uint8Array(c);
      let fatalOk = true;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        fatalOk = false;
      }
      expect(firstInvalidUtf8(bytes) === -1).toBe(fatalOk);
    }
    expect(decodeDatasetBytes(new Uint8Array([0x41, 0x0a, 0x42, 0xff]))).toMatchObject({ ok: false, line: 2 });
  });
});

describe('large files are parsed in chunks without freezing the page', () => {
  it('reports progress and lets other tasks run while parsing', async () => {
    const lines = 20_000;
    let text = '';
    for (let i = 0; i < lines; i++) text += `{"text": "example number ${i}"}\n`;
    const progress: number[] = [];
    let otherTaskRanDuringParse = false;
    let parsing = true;
    // A task queued now can only run before the parse finishes if the parser yields.
    setTimeout(() => {
      if (parsing) otherTaskRanDuringParse = true;
    }, 0);
    const d = await parseDatasetText(text, 'big.jsonl', { chunkSize: 1000, onProgress: (f) => progress.push(f) });
    parsing = false;
    expect(d.examples).toHaveLength(lines);
    expect(otherTaskRanDuringParse).toBe(true);
    expect(progress.length).toBeGreaterThanOrEqual(lines / 1000);
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]);
    expect(progress[progress.length - 1]).toBe(1);
  });

  it('can be cancelled', async () => {
    const text = jsonl(...Array.from({ length: 5000 }, (_, i) => ({ text: `t${i}` })));
    const ac = new AbortController();
    const p = parseDatasetText(text, 'big.jsonl', { chunkSize: 100, signal: ac.signal, onProgress: () => ac.abort(new Error('stop')) });
    await expect(p).rejects.toThrow('stop');
  });
});

describe('parseDatasetFile with a real File', () => {
  it('reads a File (which has a bytes() method) as a file, not as in-memory bytes', async () => {
    const file = new File(['{"text": "hello"}\n{"text": "world"}\n'], 'two.jsonl');
    const ds = await parseDatasetFile(file);
    expect(ds.problems).toEqual([]);
    expect(ds.examples.length).toBe(2);
  });
});

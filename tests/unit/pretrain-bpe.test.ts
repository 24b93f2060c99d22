// The byte-level BPE trainer (pretrain/bpe.ts) and its Hugging Face files (pretrain/bpe-files.ts):
// transformers.js reads the files and encodes as the trainer does, text round-trips, the vocabulary
// has the size asked (or says why not), training is deterministic, and the recipe's Python bpe.py
// learns the same merges and ids from the same text.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GPT2Tokenizer } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { bpeTokenizerFiles, tokenizerJson } from '../../src/lib/pretrain/bpe-files.ts';
import { MIN_VOCAB_SIZE, trainBpe } from '../../src/lib/pretrain/bpe.ts';
import { bpeTextTokenizer, pretrainRows, pretrainSplit } from '../../src/lib/pretrain/data.ts';

const FABLES = readFileSync(join(__dirname, '../../static/samples/small-fables.txt'), 'utf8');
/** Unicode letters and digits beyond ASCII, an emoji (4 UTF-8 bytes), runs of spaces, tabs and newlines. */
const MIXED = 'Café déjà vu: 3.14159 and ١٢٣ — naïve 日本語 text 🙂!\n\n   indented\tand   spaced   \n12345 67890 dogs\' and they\'re';
const TEXTS = [FABLES, MIXED];

/** transformers.js's tokenizer for the files, as AutoTokenizer builds it from a folder. */
function transformersTokenizer(files: { name: string; data: string | Uint8Array }[]) {
  const read = (name: string) => JSON.parse(files.find((f) => f.name === name)!.data as string);
  return new GPT2Tokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
}

describe('byte-level BPE training', () => {
  it('writes files transformers.js loads and encodes to the trainer\'s own ids, special tokens included', async () => {
    const { tokenizer, shortBy } = await trainBpe(TEXTS, { vocabSize: 600 });
    expect(shortBy).toBeNull();
    const hf = transformersTokenizer(bpeTokenizerFiles(tokenizer, { name: 'test', modelMaxLength: 128 }));
    const chat = '<|im_start|>user\nWhat did the fox say?<|im_end|>\n<|im_start|>assistant\nThe grapes are sour.<|im_end|>\n<|endoftext|>';
    for (const text of [FABLES.slice(0, 2000), MIXED, chat, 'an unseen word: xylophonically 42']) {
      const ids = tokenizer.encode(text);
      expect(hf.encode(text, { add_special_tokens: false })).toEqual(ids);
      expect(hf.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false })).toBe(text);
    }
    expect(tokenizer.encode(chat).slice(0, 1)).toEqual([1]);
    expect(tokenizer.encode('<|endoftext|>')).toEqual([0]);
    // the merges did something: fewer tokens than bytes
    expect(tokenizer.encode(FABLES).length).toBeLessThan(new TextEncoder().encode(FABLES).length / 2);
  });

  it('decodes its encoding back to the text: unicode, digits and whitespace runs', async () => {
    const { tokenizer } = await trainBpe([FABLES], { vocabSize: 400 });
    for (const text of [MIXED, '  \n\n\t  ', '0000 1111 2222', 'Ünïcødé ünseen 🙂🙂 ', '']) expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
  });

  it('has the vocabulary size asked for, or says that the text ran out of pairs', async () => {
    const big = await trainBpe(TEXTS, { vocabSize: 700 });
    expect(big.tokenizer.vocab.length).toBe(700);
    expect(big.tokenizer.merges.length).toBe(700 - MIN_VOCAB_SIZE);
    const small = await trainBpe(['abab abab cdcd'], { vocabSize: 1000 });
    expect(small.tokenizer.vocab.length).toBeLessThan(1000);
    expect(small.shortBy).toMatch(/^the text ran out of pairs: after \d+ merges no pair of tokens occurs twice, so the vocabulary has \d+ tokens, not 1,000$/);
    await expect(trainBpe(TEXTS, { vocabSize: 100 })).rejects.toThrow('the vocabulary size must be a whole number from 259 (3 special tokens and the 256 bytes) to 65,536, got 100');
  });

  it('gives byte-identical tokenizer.json for the same text and size, and reports progress up to 1', async () => {
    const seen: number[] = [];
    const a = await trainBpe(TEXTS, { vocabSize: 500, onProgress: (f) => seen.push(f) });
    const b = await trainBpe(TEXTS, { vocabSize: 500 });
    expect(tokenizerJson(a.tokenizer)).toBe(tokenizerJson(b.tokenizer));
    expect(seen.at(-1)).toBe(1);
    expect(seen.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= seen[i - 1]))).toBe(true);
  });

  it('packs pretraining rows as the worker does: trained on the training paragraphs, every id in the vocabulary, <|endoftext|> after each paragraph', async () => {
    const split = pretrainSplit([FABLES], 0);
    const { tokenizer } = await trainBpe(split.train, { vocabSize: 500 });
    const tok = bpeTextTokenizer(tokenizer);
    const rows = pretrainRows([FABLES], tok, 32, 0);
    expect(rows.note).toBe(split.note.replace(/examples/g, 'paragraphs'));
    const ids = [...rows.train.inputIds];
    expect(ids.every((id) => id >= 0 && id < 500)).toBe(true);
    expect(ids.filter((id) => id === 0).length).toBeGreaterThanOrEqual(split.train.length - 1);
    expect(tok.decode(tok.encode(split.validation[0]))).toBe(split.validation[0]);
  });

  it('stops when its signal is aborted', async () => {
    const stop = new AbortController();
    stop.abort();
    await expect(trainBpe(TEXTS, { vocabSize: 500, signal: stop.signal })).rejects.toThrow('tokenizer training was stopped');
  });

  it('learns the same merges and ids as the recipe\'s bpe.py on the same text', async () => {
    const { tokenizer } = await trainBpe(TEXTS, { vocabSize: 600 });
    const script = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(join(__dirname, '../../models/recipe'))})`,
      'import bpe',
      'a = json.load(sys.stdin)',
      'vocab, merges = bpe.train(a["texts"], a["vocab_size"])',
      'tok = bpe.Tokenizer(vocab, merges)',
      'print(json.dumps({"merges": [list(m) for m in merges], "ids": [tok.encode(t) for t in a["probe"]]}))',
    ].join('\n');
    const probe = [MIXED, FABLES.slice(0, 1500), '<|im_start|>user\nhi<|im_end|>'];
    const out = execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify({ texts: TEXTS, vocab_size: 600, probe }), encoding: 'utf8' });
    const py = JSON.parse(out) as { merges: [string, string][]; ids: number[][] };
    expect(tokenizer.merges).toEqual(py.merges);
    expect(probe.map((t) => tokenizer.encode(t))).toEqual(py.ids);
  }, 60_000);
});

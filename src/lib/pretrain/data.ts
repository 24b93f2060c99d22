// The text a new model is pretrained on, as the page gathers it: the user's plain-text files (.txt and
// .md paragraphs, or {text} JSONL, read by the one dataset reader) or the built-in Brown slice, split
// into train and validation paragraphs by the one seeded split (data/split.ts) and packed end to end
// into rows where every token counts (general.ts: the same packing as the general text). A tokenizer
// trained for the new model (bpe.ts) learns from the training paragraphs only.

import type { PackedRows } from '../data/pack.ts';
import type { ParsedDataset } from '../data/parse.ts';
import { splitExamples } from '../data/split.ts';
import type { TextTokenizer } from '../data/tokenize.ts';
import type { BpeTokenizer } from './bpe.ts';
import { generalTextRows } from './general.ts';

/** A trained BPE as the data layer's tokenizer: no BOS added, <|endoftext|> (0) ends a text and pads. */
export function bpeTextTokenizer(tok: BpeTokenizer): TextTokenizer {
  return { encode: (text) => tok.encode(text), decode: (ids) => tok.decode(ids), bosIds: [], eosId: 0, padId: 0 };
}

/** Validation tokens kept at most: a steady loss for a few forward passes. */
export const PRETRAIN_VALIDATION_TOKENS = 4096;

/** The file name the dataset reader sees: Markdown is read as plain-text paragraphs. */
export function readerName(name: string): string {
  return name.replace(/\.(md|markdown)$/i, '.txt');
}

/** The texts of parsed files, or the problems that keep them from being pretraining text (one sentence each). */
export function pretrainTexts(parsed: ParsedDataset[]): { texts: string[]; problems: string[] } {
  const texts: string[] = [];
  const problems: string[] = [];
  for (const p of parsed) {
    const errors = p.problems.filter((x) => x.severity === 'error');
    if (p.examples.length === 0) {
      problems.push(`${p.file}: ${errors[0]?.message ?? 'no text in it'}`);
      continue;
    }
    const other = p.examples.filter((e) => e.format !== 'text').length;
    if (other) {
      problems.push(`${p.file}: ${other} of ${p.examples.length} records are not plain text (${p.format} data): pretraining reads .txt, .md or {"text"} JSONL`);
      continue;
    }
    for (const e of p.examples) if (e.format === 'text' && e.text.trim()) texts.push(e.text);
  }
  if (!problems.length && texts.length === 0) problems.push('there is no text to pretrain on');
  return { texts, problems };
}

/** The texts' paragraphs, about 10% held out for validation by the one seeded split. */
export function pretrainSplit(texts: string[], seed: number): { train: string[]; validation: string[]; note: string } {
  const paragraphs = texts.flatMap((t) => t.split(/\n\s*\n/)).map((p) => p.trim()).filter((p) => p.length > 0);
  if (paragraphs.length < 2) throw new Error('pretraining needs at least two paragraphs (one is held out for validation)');
  return splitExamples(paragraphs, { seed });
}

/** Paragraphs split (pretrainSplit) and packed into rows of T. */
export function pretrainRows(texts: string[], tok: TextTokenizer, T: number, seed: number): { train: PackedRows; validation: PackedRows; note: string } {
  const split = pretrainSplit(texts, seed);
  return {
    train: generalTextRows(split.train.join('\n\n'), tok, T, Infinity),
    validation: generalTextRows(split.validation.join('\n\n'), tok, T, PRETRAIN_VALIDATION_TOKENS),
    note: split.note.replace(/examples/g, 'paragraphs'),
  };
}

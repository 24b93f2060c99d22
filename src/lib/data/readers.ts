// Text → raw records, one reader per file type: read-json.ts (.jsonl, .json), read-csv.ts (.csv, .tsv)
// and read-text.ts (.txt). Readers know nothing about dataset formats; they only split a file into
// records (a JSON value, a CSV row as {column: value}, a paragraph of text) and name each record's
// place in the file (records.ts).

import { readDelimited } from './read-csv';
import { readJsonArray, readJsonl } from './read-json';
import { readParagraphs } from './read-text';
import type { ReadOptions, ReadResult } from './records';

export type FileKind = 'jsonl' | 'json' | 'csv' | 'tsv' | 'txt';

/** The file type from a file name's extension, or null when the extension is not one we read. */
export function fileKindFromName(name: string): FileKind | null {
  const m = /\.([a-z0-9]+)$/i.exec(name);
  const ext = m ? m[1].toLowerCase() : '';
  switch (ext) {
    case 'jsonl':
    case 'ndjson':
      return 'jsonl';
    case 'json':
      return 'json';
    case 'csv':
      return 'csv';
    case 'tsv':
      return 'tsv';
    case 'txt':
    case 'text':
    case 'md':
      return 'txt';
    default:
      return null;
  }
}

/** Guesses the type of a file whose name says nothing, from its first non-blank character. */
export function sniffFileKind(text: string): FileKind {
  const first = /\S/.exec(text)?.[0];
  if (first === '[') return 'json';
  if (first === '{') return 'jsonl';
  return 'txt';
}

/** Reads the records of a decoded dataset file. */
export async function readRecords(text: string, file: string, kind: FileKind, opts: ReadOptions = {}): Promise<ReadResult> {
  switch (kind) {
    case 'jsonl':
      return readJsonl(text, file, opts);
    case 'json':
      return readJsonArray(text, file, opts);
    case 'csv':
      return readDelimited(text, file, ',', opts);
    case 'tsv':
      return readDelimited(text, file, '\t', opts);
    case 'txt':
      return readParagraphs(text, file, opts);
  }
}

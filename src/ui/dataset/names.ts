// Words the dataset screen uses for formats and records.
import type { DatasetFormat, FileKind } from '../../lib/data';

/** A format's name in words (FORMAT_LABELS gives its fields). */
export const FORMAT_NAMES: Readonly<Record<DatasetFormat, string>> = {
  text: 'Plain text',
  'prompt-completion': 'Prompt and completion',
  messages: 'Chat messages',
  alpaca: 'Alpaca instructions',
  preference: 'Preference pairs (DPO)',
};

/** What one record of a file is called: a line of .jsonl, a row of .csv, an item of .json, a paragraph of .txt. */
export function recordWord(kind: FileKind | null): string {
  switch (kind) {
    case 'jsonl':
      return 'line';
    case 'csv':
    case 'tsv':
      return 'row';
    case 'json':
      return 'item';
    case 'txt':
      return 'paragraph';
    default:
      return 'record';
  }
}

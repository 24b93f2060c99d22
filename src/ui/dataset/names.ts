// Words the dataset screen uses for formats, records and reasons.
import { type DatasetFormat, type FileKind, PREFERENCE_NOTE } from '../../lib/data';

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

/**
 * Why preference data cannot train, as a reason in the status lines: the Dataset panel shows the whole
 * note (PREFERENCE_NOTE) once, and the status lines point to it rather than repeat it.
 */
export const PREFERENCE_REASON = 'this is preference data (DPO pairs), which supervised fine-tuning cannot train on: pick DPO, SimPO or ORPO as the objective (see the note in the Dataset panel)';

/** The reasons training may not start, as the page's status lines give them (the preference note shortened). */
export function pageReasons(reasons: readonly string[]): string[] {
  return reasons.map((r) => (r === PREFERENCE_NOTE ? PREFERENCE_REASON : r));
}

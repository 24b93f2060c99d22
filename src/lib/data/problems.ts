// Where a record came from, and what is wrong with it. Every problem the data layer finds names its
// file, its line (or CSV row, or JSON array item) and the reason; nothing is dropped without one.

/**
 * What `index` counts:
 * - `line`: a line of a .jsonl file (1-based, as an editor shows it)
 * - `row`: a row of a .csv/.tsv file, counted as a spreadsheet does: the header is row 1
 * - `item`: an element of a .json array (1-based)
 * - `paragraph`: a blank-line-separated paragraph of a .txt file (1-based)
 * - `file`: the file as a whole (index 0)
 */
export type RecordUnit = 'line' | 'row' | 'item' | 'paragraph' | 'file';

export interface Where {
  file: string;
  unit: RecordUnit;
  index: number;
  /** The 1-based line the record starts on (for every unit; 0 for `file`). */
  line: number;
}

/**
 * `error`: the record cannot be used; it is left out of `examples` and listed here, so the user can
 * skip it or fix the file. `warning`: the record is used, but something about it deserves a look
 * (e.g. it will be truncated).
 */
export type Severity = 'error' | 'warning';

export interface DataProblem {
  where: Where;
  /** The field at fault, as a path: `completion`, `messages[2].role`. */
  field?: string;
  message: string;
  severity: Severity;
}

export function fileWhere(file: string): Where {
  return { file, unit: 'file', index: 0, line: 0 };
}

/** "train.jsonl, line 12" / "data.csv, row 4 (line 5)" / "data.json, item 3 (line 9)" / "train.jsonl". */
export function describeWhere(w: Where): string {
  switch (w.unit) {
    case 'file':
      return w.file;
    case 'line':
      return `${w.file}, line ${w.index}`;
    default:
      return w.line > 0 ? `${w.file}, ${w.unit} ${w.index} (line ${w.line})` : `${w.file}, ${w.unit} ${w.index}`;
  }
}

/** One line a person can read: `train.jsonl, line 12, field "messages[1].role": unknown role "bot" …`. */
export function describeProblem(p: DataProblem): string {
  const field = p.field ? `, field "${p.field}"` : '';
  return `${describeWhere(p.where)}${field}: ${p.message}`;
}

/** Formats a count with thousands separators, independent of locale so messages are stable. */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** What a JSON value is, for messages: "null", "an array", "an object", "a string", "a number"… */
export function kindOfValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

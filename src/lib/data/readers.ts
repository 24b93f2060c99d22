// Text → raw records, one reader per file type. Readers know nothing about dataset formats; they only
// split a file into records (a JSON value, a CSV row as {column: value}, a paragraph of text) and name
// each record's place in the file. They are async and give the event loop a turn every `chunkSize`
// records, so a large file never freezes the page.
//
// .jsonl  one JSON object per line; blank lines are ignored.
// .json   a JSON array of objects. Items are located with a small scanner so each one is parsed on its
//         own: one broken item is reported with its line and the rest are still read. A file holding a
//         single object is one record; a .json file that is really JSON Lines is read as JSON Lines.
// .csv    RFC 4180: a header row naming the columns, fields separated by commas, double-quoted fields
//         may hold commas, newlines and "" for a quote. Rows are counted as a spreadsheet counts them
//         (the header is row 1). A `messages` column (or chosen/rejected) holding a JSON array is parsed.
//         .tsv is the same with tabs.
// .txt    one example per paragraph: paragraphs are separated by one or more blank lines, and a file
//         without blank lines is one example. (Text examples are packed end to end and cut into
//         training windows, so a long paragraph is never truncated.)

import { MAX_LINE_CHARS, yieldToEventLoop } from './decode';
import { type DataProblem, fileWhere, formatCount, type Where } from './problems';

export type FileKind = 'jsonl' | 'json' | 'csv' | 'tsv' | 'txt';

export interface RawRecord {
  where: Where;
  /** A parsed JSON value (.jsonl/.json), a {column: value} object (.csv), or {text} (.txt). */
  value: unknown;
}

export interface ReadResult {
  records: RawRecord[];
  problems: DataProblem[];
  /** Things worth telling the user that are not problems (e.g. "read as JSON Lines"). */
  notes: string[];
}

export interface ReadOptions {
  /** Called with the fraction of the text read so far, 0..1. */
  onProgress?: (fraction: number) => void;
  /** Records between turns of the event loop (default 2000). */
  chunkSize?: number;
  signal?: AbortSignal;
  /** Longest line/record accepted, in characters (default MAX_LINE_CHARS). */
  maxLineChars?: number;
}

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

class Ticker {
  private count = 0;
  constructor(
    private readonly opts: ReadOptions,
    private readonly total: number,
  ) {}
  /** Call once per record; every chunkSize records it reports progress and yields. */
  async tick(position: number): Promise<void> {
    if (++this.count % (this.opts.chunkSize ?? 2000) !== 0) return;
    if (this.opts.signal?.aborted) throw this.opts.signal.reason ?? new DOMException('aborted', 'AbortError');
    this.opts.onProgress?.(this.total > 0 ? position / this.total : 1);
    await yieldToEventLoop();
  }
  done(): void {
    this.opts.onProgress?.(1);
  }
}

function jsonErrorReason(e: unknown): string {
  return `invalid JSON (${(e as Error).message})`;
}

function kindOfValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function tooLong(chars: number, limit: number): string {
  return `too long: ${formatCount(chars)} characters, over the limit of ${formatCount(limit)} per line`;
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

async function readJsonl(text: string, file: string, opts: ReadOptions): Promise<ReadResult> {
  const out: ReadResult = { records: [], problems: [], notes: [] };
  const limit = opts.maxLineChars ?? MAX_LINE_CHARS;
  const ticker = new Ticker(opts, text.length);
  let pos = 0;
  let line = 0;
  while (pos <= text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    line++;
    const where: Where = { file, unit: 'line', index: line, line };
    const len = end - pos;
    if (len > limit) {
      out.problems.push({ where, message: tooLong(len, limit), severity: 'error' });
    } else {
      const s = text.slice(pos, end);
      if (s.trim() !== '') {
        try {
          const value = JSON.parse(s);
          if (value === null || typeof value !== 'object' || Array.isArray(value)) {
            out.problems.push({ where, message: `expected a JSON object, found ${kindOfValue(value)}`, severity: 'error' });
          } else {
            out.records.push({ where, value });
          }
        } catch (e) {
          out.problems.push({ where, message: jsonErrorReason(e), severity: 'error' });
        }
      }
    }
    pos = end + 1;
    await ticker.tick(pos);
  }
  ticker.done();
  return out;
}

/** Every non-blank line starts with "{": what a JSON Lines file looks like. */
function looksLikeJsonl(text: string): boolean {
  let lines = 0;
  for (const l of text.split('\n')) {
    const t = l.trim();
    if (t === '') continue;
    if (!t.startsWith('{') || !t.endsWith('}')) return false;
    lines++;
  }
  return lines > 1;
}

async function readJsonArray(text: string, file: string, opts: ReadOptions): Promise<ReadResult> {
  const out: ReadResult = { records: [], problems: [], notes: [] };
  const ticker = new Ticker(opts, text.length);
  const n = text.length;
  let i = 0;
  let line = 1;
  const skipWs = () => {
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) line++;
      else if (c !== 32 && c !== 9 && c !== 13) break;
    }
  };
  skipWs();
  if (text[i] !== '[') {
    if (text[i] === '{') {
      try {
        const value = JSON.parse(text);
        out.records.push({ where: { file, unit: 'item', index: 1, line }, value });
        out.notes.push(`${file} holds a single JSON object, read as one example`);
        ticker.done();
        return out;
      } catch {
        if (looksLikeJsonl(text)) {
          const r = await readJsonl(text, file, opts);
          r.notes.unshift(`${file} holds one JSON object per line: read as JSON Lines`);
          return r;
        }
      }
    }
    const found = i >= n ? 'nothing' : JSON.stringify(text.slice(i, i + 20));
    out.problems.push({
      where: fileWhere(file),
      message: `a .json dataset must be an array of objects ([{...}, {...}]); found ${found} at line ${line}`,
      severity: 'error',
    });
    return out;
  }
  i++; // past '['
  let item = 0;
  for (;;) {
    skipWs();
    if (i >= n) {
      out.problems.push({ where: fileWhere(file), message: `invalid JSON: the array is never closed with "]" (line ${line})`, severity: 'error' });
      break;
    }
    if (text[i] === ']' && item === 0) {
      i++;
      break;
    }
    item++;
    const start = i;
    const startLine = line;
    const where: Where = { file, unit: 'item', index: item, line: startLine };
    // Find where this item ends: a ',' or ']' outside strings and brackets.
    let depth = 0;
    let inString = false;
    let stray = '';
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) line++;
      if (inString) {
        if (c === 92) i++; // backslash: skip the escaped character
        else if (c === 34) inString = false;
        continue;
      }
      if (c === 34) inString = true;
      else if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        if (depth === 0) {
          if (c === 125) stray = '}';
          break;
        }
        depth--;
      } else if (c === 44 && depth === 0) break;
    }
    if (i >= n || stray) {
      const why = stray ? `an unmatched "}" on line ${line}` : 'an unterminated string or a missing "]"';
      out.problems.push({ where, message: `invalid JSON: ${why}; the file cannot be read past this point`, severity: 'error' });
      return out;
    }
    const s = text.slice(start, i);
    if (s.length > (opts.maxLineChars ?? MAX_LINE_CHARS)) {
      out.problems.push({ where, message: tooLong(s.length, opts.maxLineChars ?? MAX_LINE_CHARS).replace('per line', 'per item'), severity: 'error' });
    } else if (s.trim() === '') {
      out.problems.push({ where, message: 'invalid JSON: an empty item (two commas in a row, or a trailing comma)', severity: 'error' });
    } else {
      try {
        const value = JSON.parse(s);
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          out.problems.push({ where, message: `expected a JSON object, found ${kindOfValue(value)}`, severity: 'error' });
        } else out.records.push({ where, value });
      } catch (e) {
        out.problems.push({ where, message: jsonErrorReason(e), severity: 'error' });
      }
    }
    const endChar = text[i];
    i++;
    await ticker.tick(i);
    if (endChar === ']') break;
  }
  skipWs();
  if (i < n) {
    out.problems.push({
      where: fileWhere(file),
      message: `invalid JSON: text after the closing "]" at line ${line}: ${JSON.stringify(text.slice(i, i + 20))}`,
      severity: 'error',
    });
  }
  ticker.done();
  return out;
}

/** Columns whose cells may hold a JSON array (a conversation) in a CSV file. */
const JSON_COLUMNS = new Set(['messages', 'chosen', 'rejected', 'prompt', 'completion']);

async function readDelimited(text: string, file: string, delim: ',' | '\t', opts: ReadOptions): Promise<ReadResult> {
  const out: ReadResult = { records: [], problems: [], notes: [] };
  const limit = opts.maxLineChars ?? MAX_LINE_CHARS;
  const ticker = new Ticker(opts, text.length);
  const d = delim.charCodeAt(0);
  const n = text.length;
  let i = 0;
  let line = 1;
  let header: string[] | null = null;
  let rowNumber = 0;

  while (i < n) {
    // One row (RFC 4180 record), possibly spanning lines inside quotes.
    const rowStart = i;
    const rowLine = line;
    const fields: string[] = [];
    let rowProblem: string | null = null;
    let endOfRow = false;
    while (!endOfRow) {
      let field = '';
      if (text.charCodeAt(i) === 34) {
        // Quoted field.
        i++;
        for (;;) {
          const q = text.indexOf('"', i);
          if (q < 0) {
            rowProblem ??= 'a quoted field is never closed: the file ends inside quotes';
            field += text.slice(i);
            for (let k = i; k < n; k++) if (text.charCodeAt(k) === 10) line++;
            i = n;
            break;
          }
          const chunk = text.slice(i, q);
          for (let k = 0; k < chunk.length; k++) if (chunk.charCodeAt(k) === 10) line++;
          field += chunk;
          if (text.charCodeAt(q + 1) === 34) {
            field += '"';
            i = q + 2;
          } else {
            i = q + 1;
            break;
          }
        }
        // After the closing quote: a delimiter, end of line or end of file.
        let junkStart = -1;
        while (i < n && text.charCodeAt(i) !== d && text.charCodeAt(i) !== 10) {
          if (junkStart < 0) junkStart = i;
          i++;
        }
        if (junkStart >= 0) {
          rowProblem ??= `text after a closing quote on line ${line}: ${JSON.stringify(text.slice(junkStart, Math.min(i, junkStart + 20)))} (quote the whole field and double any quotes inside it)`;
          field += text.slice(junkStart, i);
        }
      } else {
        // Unquoted field: up to the next delimiter or newline. A quote inside it is kept as is.
        let j = i;
        while (j < n && text.charCodeAt(j) !== d && text.charCodeAt(j) !== 10) j++;
        field = text.slice(i, j);
        i = j;
      }
      fields.push(field);
      if (i >= n) endOfRow = true;
      else if (text.charCodeAt(i) === d) i++;
      else {
        i++; // newline
        line++;
        endOfRow = true;
      }
      if (i >= n && !endOfRow) {
        // A trailing delimiter at the very end of the file: one more empty field.
        fields.push('');
        endOfRow = true;
      }
    }
    const rowChars = i - rowStart;
    if (fields.length === 1 && fields[0] === '' && rowProblem === null) continue; // blank line
    rowNumber++;
    const where: Where = { file, unit: 'row', index: rowNumber, line: rowLine };
    if (rowChars > limit) {
      out.problems.push({ where, message: tooLong(rowChars, limit).replace('per line', 'per row'), severity: 'error' });
      if (header === null) return out;
      await ticker.tick(i);
      continue;
    }
    if (header === null) {
      header = fields.map((f) => f.trim());
      const seen = new Set<string>();
      for (let c = 0; c < header.length; c++) {
        const name = header[c];
        if (name === '') {
          out.problems.push({ where, message: `the header row has an empty column name (column ${c + 1})`, severity: 'error' });
        } else if (seen.has(name.toLowerCase())) {
          out.problems.push({ where, message: `the header row names column "${name}" twice`, severity: 'error' });
        }
        seen.add(name.toLowerCase());
      }
      if (rowProblem) out.problems.push({ where, message: rowProblem, severity: 'error' });
      if (out.problems.length > 0) return out;
      continue;
    }
    if (rowProblem) {
      out.problems.push({ where, message: rowProblem, severity: 'error' });
    } else if (fields.length !== header.length) {
      out.problems.push({
        where,
        message: `${fields.length} field${fields.length === 1 ? '' : 's'}, but the header has ${header.length} columns (${header.join(', ')})`,
        severity: 'error',
      });
    } else {
      const value: Record<string, unknown> = {};
      let cellProblem = false;
      for (let c = 0; c < header.length; c++) {
        // Column names are matched without regard to case: "Prompt" and "prompt" are the same field.
        const name = header[c].toLowerCase();
        const cell = fields[c];
        if (JSON_COLUMNS.has(name) && cell.trimStart().startsWith('[')) {
          try {
            value[name] = JSON.parse(cell);
            continue;
          } catch (e) {
            if (name === 'messages') {
              out.problems.push({ where, field: name, message: `${jsonErrorReason(e)} in a messages cell`, severity: 'error' });
              cellProblem = true;
            }
          }
        }
        value[name] = cell;
      }
      if (!cellProblem) out.records.push({ where, value });
    }
    await ticker.tick(i);
  }
  if (header === null) out.problems.push({ where: fileWhere(file), message: 'the CSV file has no header row', severity: 'error' });
  ticker.done();
  return out;
}

async function readParagraphs(text: string, file: string, opts: ReadOptions): Promise<ReadResult> {
  const out: ReadResult = { records: [], problems: [], notes: [] };
  const limit = opts.maxLineChars ?? MAX_LINE_CHARS;
  const ticker = new Ticker(opts, text.length);
  let pos = 0;
  let line = 0;
  let para: string[] = [];
  let paraLine = 0;
  let paraBad = false;
  let index = 0;
  const flush = () => {
    if (para.length === 0) return;
    index++;
    const where: Where = { file, unit: 'paragraph', index, line: paraLine };
    if (paraBad) {
      out.problems.push({ where, message: tooLong(para.reduce((m, l) => Math.max(m, l.length), 0), limit), severity: 'error' });
    } else {
      out.records.push({ where, value: { text: para.join('\n') } });
    }
    para = [];
    paraBad = false;
  };
  while (pos <= text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    line++;
    const l = text.slice(pos, end);
    if (l.trim() === '') flush();
    else {
      if (para.length === 0) paraLine = line;
      if (l.length > limit) paraBad = true;
      para.push(l.trimEnd());
    }
    pos = end + 1;
    await ticker.tick(pos);
  }
  flush();
  ticker.done();
  return out;
}

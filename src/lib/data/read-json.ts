// JSON dataset files.
//
// .jsonl  one JSON object per line; blank lines are ignored.
// .json   a JSON array of objects. Items are located with a small scanner so each one is parsed on its
//         own: one broken item is reported with its line and the rest are still read. A file holding a
//         single object is one record; a .json file that is really JSON Lines is read as JSON Lines.

import { fileWhere, kindOfValue, type Where } from './problems';
import { emptyResult, forEachLine, jsonErrorReason, lineLimit, type ReadOptions, type ReadResult, Ticker, tooLong } from './records';

/** Parses `s` as one record: a JSON object, or a problem saying why it is not one. */
function readObject(out: ReadResult, where: Where, s: string): void {
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

export async function readJsonl(text: string, file: string, opts: ReadOptions): Promise<ReadResult> {
  const out = emptyResult();
  const limit = lineLimit(opts);
  await forEachLine(text, opts, (start, end, line) => {
    const where: Where = { file, unit: 'line', index: line, line };
    if (end - start > limit) {
      out.problems.push({ where, message: tooLong(end - start, limit), severity: 'error' });
      return;
    }
    const s = text.slice(start, end);
    if (s.trim() !== '') readObject(out, where, s);
  });
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

export async function readJsonArray(text: string, file: string, opts: ReadOptions): Promise<ReadResult> {
  const out = emptyResult();
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
    if (s.length > lineLimit(opts)) {
      out.problems.push({ where, message: tooLong(s.length, lineLimit(opts), 'item'), severity: 'error' });
    } else if (s.trim() === '') {
      out.problems.push({ where, message: 'invalid JSON: an empty item (two commas in a row, or a trailing comma)', severity: 'error' });
    } else {
      readObject(out, where, s);
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

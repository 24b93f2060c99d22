// .csv: RFC 4180. A header row names the columns, fields are separated by commas, and double-quoted
// fields may hold commas, newlines and "" for a quote. Rows are counted as a spreadsheet counts them
// (the header is row 1). A `messages` column (or chosen/rejected) holding a JSON array is parsed.
// .tsv is the same with tabs.

import { showValue } from '../show.ts';
import { fileWhere, type Where } from './problems';
import { emptyResult, jsonErrorReason, lineLimit, type ReadOptions, type ReadResult, Ticker, tooLong } from './records';

/** The header's columns as a message lists them: the first few, each shortened. */
function columnList(header: string[]): string {
  const shown = header.slice(0, 12).map((h) => (h.length > 40 ? `${h.slice(0, 40)}…` : h));
  return header.length > 12 ? `${shown.join(', ')}, and ${header.length - 12} more` : shown.join(', ');
}

/** Columns whose cells may hold a JSON array (a conversation) in a CSV file. */
const JSON_COLUMNS = new Set(['messages', 'chosen', 'rejected', 'prompt', 'completion']);

export async function readDelimited(text: string, file: string, delim: ',' | '\t', opts: ReadOptions): Promise<ReadResult> {
  const out = emptyResult();
  const limit = lineLimit(opts);
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
      out.problems.push({ where, message: tooLong(rowChars, limit, 'row'), severity: 'error' });
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
          out.problems.push({ where, message: `the header row names column ${showValue(name, 60)} twice`, severity: 'error' });
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
        message: `${fields.length} field${fields.length === 1 ? '' : 's'}, but the header has ${header.length} columns (${columnList(header)})`,
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

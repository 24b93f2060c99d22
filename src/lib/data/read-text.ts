// .txt: one example per paragraph. Paragraphs are separated by one or more blank lines, and a file
// without blank lines is one example. (Text examples are packed end to end and cut into training
// windows, so a long paragraph is never truncated.)

import type { Where } from './problems';
import { emptyResult, forEachLine, lineLimit, type ReadOptions, type ReadResult, tooLong } from './records';

export async function readParagraphs(text: string, file: string, opts: ReadOptions): Promise<ReadResult> {
  const out = emptyResult();
  const limit = lineLimit(opts);
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
  await forEachLine(text, opts, (start, end, line) => {
    const l = text.slice(start, end);
    if (l.trim() === '') flush();
    else {
      if (para.length === 0) paraLine = line;
      if (l.length > limit) paraBad = true;
      para.push(l.trimEnd());
    }
  });
  flush();
  return out;
}

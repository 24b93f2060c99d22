// The prompts a RAFT run samples answers for, from a file: .txt (one prompt per non-empty line) or
// .jsonl (one JSON object per line with a string "prompt", and optionally a reference answer as
// "reference" or "completion", which an exact-match rule compares with). Every bad line is named.
import type { RaftPrompt } from './raft.ts';

export function parsePromptsFile(text: string, name: string): RaftPrompt[] {
  const lines = text.split(/\r?\n/);
  const out: RaftPrompt[] = [];
  const json = /\.jsonl$/i.test(name);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    if (!json) {
      out.push({ prompt: line });
      return;
    }
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      throw new Error(`${name} line ${i + 1}: not valid JSON`);
    }
    if (o === null || typeof o !== 'object' || typeof (o as { prompt?: unknown }).prompt !== 'string') {
      throw new Error(`${name} line ${i + 1}: needs a string "prompt"`);
    }
    const r = o as { prompt: string; reference?: unknown; completion?: unknown };
    const ref = typeof r.reference === 'string' ? r.reference : typeof r.completion === 'string' ? r.completion : null;
    out.push({ prompt: r.prompt, reference: ref });
  });
  if (out.length === 0) throw new Error(`${name} has no prompt`);
  return out;
}

// `raft --reward ranking` on the command line: each round's samples go out (numbered, on stderr for a
// person; one {"event":"rank"} line with --json, so a script can drive it) and the user's choice for
// each prompt comes in on stdin, one line per prompt: the best sample's number, or all K numbers best
// first. A bad line is named (a warning) and the same prompt is asked again; stdin ending before every
// prompt has its answer fails with a message that says which prompt was waiting.

import { createInterface, type Interface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseRankLine, type AskRanking, type RankChoice } from '../lib/rewards/ranking.ts';
import { InputError } from './model.ts';
import type { Reporter } from './output.ts';

/** Lines of a stream, one at a time, as they are asked for. */
class LineReader {
  private readonly lines: string[] = [];
  private ended = false;
  private wake: (() => void) | null = null;
  private readonly rl: Interface;

  constructor(input: Readable) {
    this.rl = createInterface({ input, terminal: false });
    this.rl.on('line', (l) => {
      this.lines.push(l);
      this.wake?.();
    });
    this.rl.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
  }

  /** The next line, or null at the end of input. */
  async next(): Promise<string | null> {
    while (this.lines.length === 0 && !this.ended) await new Promise<void>((r) => (this.wake = r));
    this.wake = null;
    return this.lines.shift() ?? null;
  }

  close(): void {
    this.rl.close();
  }
}

/** What a person reads: each prompt and its samples, numbered from 1, then how to answer. */
export function rankText(round: number, groups: { prompt: string; answers: string[] }[]): string[] {
  const k = groups[0]?.answers.length ?? 0;
  const lines = [`Round ${round}: rank the ${k} samples of each of the ${groups.length} prompts.`];
  groups.forEach((g, i) => {
    lines.push(`Prompt ${i + 1} of ${groups.length}: ${JSON.stringify(g.prompt)}`);
    g.answers.forEach((a, j) => lines.push(`  ${j + 1}. ${JSON.stringify(a)}`));
  });
  // an example order of this K: 2 1 3 4 … (just "1" when K is 1)
  const order = k === 1 ? [1] : [2, 1, ...Array.from({ length: k - 2 }, (_, i) => i + 3)];
  lines.push(`On stdin, one line per prompt in order: the best sample's number, or all ${k} numbers best first (e.g. "${order[0]}" or "${order.join(' ')}").`);
  return lines;
}

/** The ranking asked on `out` and read from `input`; close() it when the run ends (stdin then lets the process exit). */
export function stdinRanking(input: Readable, out: Reporter): { ask: AskRanking; close: () => void } {
  let reader: LineReader | null = null;
  const ask: AskRanking = async (q) => {
    reader ??= new LineReader(input);
    const k = q.groups[0]?.answers.length ?? 0;
    out.rank({ round: q.round, k, prompts: q.groups.map((g) => ({ prompt: g.prompt, answers: g.answers })) }, rankText(q.round, q.groups));
    const choices: RankChoice[] = [];
    while (choices.length < q.groups.length) {
      const p = choices.length + 1;
      const line = await reader.next();
      if (line === null) throw new InputError(`round ${q.round}: stdin ended before the ranking of prompt ${p} of ${q.groups.length} (give one line per prompt: the best sample's number, or all ${k} best first)`);
      try {
        choices.push(parseRankLine(line, k));
      } catch (e) {
        out.warning(`round ${q.round}, prompt ${p}: ${(e as Error).message}; give prompt ${p}'s ranking again`);
      }
    }
    return choices;
  };
  return { ask, close: () => reader?.close() };
}

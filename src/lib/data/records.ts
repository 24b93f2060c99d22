// What every reader returns (raw records with their place in the file, problems, notes) and what every
// reader shares: its options, the walk over lines, progress with a turn of the event loop every
// `chunkSize` records (so a large file never freezes the page), and the messages for bad records.

import { MAX_LINE_CHARS, yieldToEventLoop } from './decode';
import { type DataProblem, formatCount, type Where } from './problems';

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

export function emptyResult(): ReadResult {
  return { records: [], problems: [], notes: [] };
}

export function lineLimit(opts: ReadOptions): number {
  return opts.maxLineChars ?? MAX_LINE_CHARS;
}

export class Ticker {
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

/**
 * Calls `each` with every line of `text` (its `start` and `end` offsets, without the '\n', and its
 * 1-based number `line`), ticking once per line.
 */
export async function forEachLine(
  text: string,
  opts: ReadOptions,
  each: (start: number, end: number, line: number) => void,
): Promise<void> {
  const ticker = new Ticker(opts, text.length);
  let line = 0;
  for (let pos = 0; pos <= text.length; ) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    each(pos, end, ++line);
    pos = end + 1;
    await ticker.tick(pos);
  }
  ticker.done();
}

export function jsonErrorReason(e: unknown): string {
  return `invalid JSON (${(e as Error).message})`;
}

/** The message for a record of `chars` characters over `limit`; `unit` is what the limit counts. */
export function tooLong(chars: number, limit: number, unit: 'line' | 'item' | 'row' = 'line'): string {
  return `too long: ${formatCount(chars)} characters, over the limit of ${formatCount(limit)} per ${unit}`;
}

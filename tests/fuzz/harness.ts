// What every fuzz case must do, checked in one place: end within its time budget, with a result or
// one of the parser's named errors (anything else escaping is a failure), and quote the input in its
// messages only so far (MAX_MESSAGE_CHARS). Each input class keeps its count of cases, its slowest case
// and its largest allocation; at the end of a file they are printed and written to
// test-results/fuzz/<class>.json, so a run's note can cite real numbers.
//
// FUZZ_RUNS=<factor> multiplies every class's number of cases (for a longer run by hand); fast-check
// picks a fresh seed each run and prints it with any counterexample, to replay with FUZZ_SEED=<seed>.

import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, expect } from 'vitest';

const MiB = 1024 * 1024;

/**
 * The time one case may take: 1 s, plus 1 s per MiB of input. Parsing here runs at tens of MB/s, so
 * the bound only trips on work that grows faster than the input (backtracking, quadratic copies) — and
 * leaves room for a loaded two-core machine.
 */
export const CASE_BUDGET = { floorMs: 1000, msPerMiB: 1000 } as const;
export const budgetMs = (bytes: number) => CASE_BUDGET.floorMs + (CASE_BUDGET.msPerMiB * bytes) / MiB;

/** Longest message a parser may produce about a bad input: it quotes the input, but never all of it. */
export const MAX_MESSAGE_CHARS = 4000;

interface ClassStats {
  cases: number;
  results: number;
  namedErrors: number;
  slowestMs: number;
  slowestInputBytes: number;
  largestInputBytes: number;
  /** The largest buffer the parser made (its output, or what it inflated), and the input that made it. */
  largestAllocationBytes: number;
  largestAllocationInputBytes: number;
}

const stats = new Map<string, ClassStats>();

function statsFor(cls: string): ClassStats {
  let s = stats.get(cls);
  if (!s) {
    s = { cases: 0, results: 0, namedErrors: 0, slowestMs: 0, slowestInputBytes: 0, largestInputBytes: 0, largestAllocationBytes: 0, largestAllocationInputBytes: 0 };
    stats.set(cls, s);
  }
  return s;
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Runs one case of input class `cls` (`bytes` long): the result, or a named error (an instance of one
 * of `named`) whose message is bounded. Fails the test when another error escapes or the budget is passed.
 */
export async function fuzzCase<T>(
  cls: string,
  bytes: number,
  run: () => T | Promise<T>,
  named: ErrorClass[],
): Promise<{ ok: true; value: T } | { ok: false; error: Error }> {
  const s = statsFor(cls);
  const t0 = performance.now();
  let outcome: { ok: true; value: T } | { ok: false; error: Error };
  try {
    outcome = { ok: true, value: await run() };
  } catch (e) {
    if (!named.some((c) => e instanceof c)) {
      throw new Error(`${cls}: an error that is not one of the parser's own escaped: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
    }
    outcome = { ok: false, error: e as Error };
  }
  const ms = performance.now() - t0;
  s.cases++;
  if (outcome.ok) s.results++;
  else {
    s.namedErrors++;
    expect(outcome.error.message.length, `${cls}: message of ${outcome.error.message.length} characters: ${outcome.error.message.slice(0, 200)}…`).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
  }
  if (ms > s.slowestMs) {
    s.slowestMs = ms;
    s.slowestInputBytes = bytes;
  }
  s.largestInputBytes = Math.max(s.largestInputBytes, bytes);
  expect(ms, `${cls}: a ${bytes}-byte input took ${ms.toFixed(0)} ms, over its budget`).toBeLessThanOrEqual(budgetMs(bytes));
  return outcome;
}

/** Records a buffer a parser made for an input of `inputBytes`. */
export function noteAllocation(cls: string, bytes: number, inputBytes: number): void {
  const s = statsFor(cls);
  if (bytes > s.largestAllocationBytes) {
    s.largestAllocationBytes = bytes;
    s.largestAllocationInputBytes = inputBytes;
  }
}

/** Cases per property: `n` times FUZZ_RUNS (1 by default). */
export function runs(n: number): number {
  const factor = Number(process.env.FUZZ_RUNS ?? 1);
  return Math.max(1, Math.round(n * (Number.isFinite(factor) && factor > 0 ? factor : 1)));
}

/** fast-check's parameters for a property of `n` cases (FUZZ_SEED replays a reported run). */
export function params(n: number): fc.Parameters<unknown> {
  const seed = process.env.FUZZ_SEED;
  return { numRuns: runs(n), ...(seed ? { seed: Number(seed) } : {}) };
}

afterAll(() => {
  if (stats.size === 0) return;
  const dir = resolve(import.meta.dirname, '../../test-results/fuzz');
  mkdirSync(dir, { recursive: true });
  for (const [cls, s] of stats) {
    writeFileSync(resolve(dir, `${cls.replace(/[^\w.-]+/g, '_')}.json`), JSON.stringify({ class: cls, ...s }, null, 2) + '\n');
    const alloc = s.largestAllocationBytes ? `, largest allocation ${s.largestAllocationBytes} B (input ${s.largestAllocationInputBytes} B)` : '';
    console.log(
      `fuzz ${cls}: ${s.cases} cases (${s.results} results, ${s.namedErrors} named errors), slowest ${s.slowestMs.toFixed(1)} ms (input ${s.slowestInputBytes} B), largest input ${s.largestInputBytes} B${alloc}`,
    );
  }
});

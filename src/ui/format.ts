// Numbers and outcomes as people read them.

import type { GenerationResult, StopReason } from '../lib/generate/stream.ts';

/** 1536 → "1.5 KB", 16_777_216 → "16.8 MB" (decimal units, as download sizes are shown). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** A parameter count: 104_296 → "104.3k", 3_950_848 → "4.0M", 494_032_768 → "494M", 1_500_000_000 → "1.50B". */
export function formatParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n < 1e8 ? 1 : 0)}M`;
  return n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}

/** 850 → "850 ms", 2345 → "2.3 s", 125_000 → "2 min 5 s". */

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms - minutes * 60_000) / 1000)} s`;
}

/** Tokens per second with sensible precision: 0.42, 3.5, 157. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '–';
  if (perSecond < 1) return perSecond.toFixed(2);
  if (perSecond < 100) return perSecond.toFixed(1);
  return Math.round(perSecond).toString();
}

/** Why a generation ended, in the words every screen uses. */
export const STOP_WORDS: Readonly<Record<StopReason, string>> = { eos: 'end of text', length: 'token limit', stopped: 'stopped' };

/**
 * The facts under a generation, one short phrase each: while it streams, the token count and live
 * speed; once finished, the result's count and speed, the time to the first token and why it stopped.
 */
export function generationFacts(g: { tokens: number; liveTokensPerSecond: number; result: GenerationResult | null }): string[] {
  const count = (n: number) => `${n} token${n === 1 ? '' : 's'}`;
  const r = g.result;
  if (!r) return g.tokens > 0 ? [count(g.tokens), `${formatRate(g.liveTokensPerSecond)} tok/s`] : [];
  return [count(r.tokenIds.length), `${formatRate(r.tokensPerSecond)} tok/s`, `first token ${formatDuration(r.prefillMs)}`, `stop: ${STOP_WORDS[r.stopReason]}`];
}

/**
 * Reasons as one sentence after a lead: "Not ready to train: a; b." Each reason's own closing period is
 * dropped, so the sentence ends with exactly one.
 */
export function reasonsSentence(lead: string, reasons: readonly string[]): string {
  return `${lead}: ${reasons.map((r) => r.replace(/[\s.]+$/, '')).join('; ')}.`;
}

/** What went wrong, in the words the error carries (an Error's message, anything else as text). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

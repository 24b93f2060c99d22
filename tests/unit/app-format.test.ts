import { describe, expect, it } from 'vitest';
import type { GenerationResult } from '../../src/lib/generate/stream.ts';
import { formatBytes, formatDuration, formatParams, formatRate, generationFacts } from '../../src/ui/format.ts';

describe('formatting for people', () => {
  it('writes byte counts in decimal units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(16_777_216)).toBe('16.8 MB');
    expect(formatBytes(270_000_000)).toBe('270 MB');
    expect(formatBytes(-1)).toBe('–');
  });

  it('writes parameter counts in thousands, millions or billions', () => {
    expect(formatParams(104_296)).toBe('104.3k');
    expect(formatParams(3_950_848)).toBe('4.0M');
    expect(formatParams(134_515_008)).toBe('135M');
    expect(formatParams(494_032_768)).toBe('494M');
    expect(formatParams(1_543_714_304)).toBe('1.54B');
  });

  it('writes durations in ms, s or min', () => {
    expect(formatDuration(850.4)).toBe('850 ms');
    expect(formatDuration(2345)).toBe('2.3 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
  });

  it('writes rates with precision that fits their size', () => {
    expect(formatRate(0.4219)).toBe('0.42');
    expect(formatRate(3.46)).toBe('3.5');
    expect(formatRate(157.2)).toBe('157');
    expect(formatRate(0)).toBe('–');
  });
});

describe('the facts under a generation', () => {
  const result = (stopReason: GenerationResult['stopReason'], n = 12): GenerationResult => ({
    renderedPrompt: 'p',
    promptIds: [1],
    tokenIds: Array.from({ length: n }, (_, i) => i),
    text: 'x',
    stopReason,
    prefillMs: 80,
    decodeMs: 1000,
    tokensPerSecond: 1.34,
  });

  it('says nothing before the first token, then the count and live speed while streaming', () => {
    expect(generationFacts({ tokens: 0, liveTokensPerSecond: 0, result: null })).toEqual([]);
    expect(generationFacts({ tokens: 1, liveTokensPerSecond: 0, result: null })).toEqual(['1 token', '– tok/s']);
    expect(generationFacts({ tokens: 5, liveTokensPerSecond: 2.5, result: null })).toEqual(['5 tokens', '2.5 tok/s']);
  });

  it('words every stop reason the same way, whichever runtime generated', () => {
    expect(generationFacts({ tokens: 12, liveTokensPerSecond: 9, result: result('length') })).toEqual([
      '12 tokens',
      '1.3 tok/s',
      'first token 80 ms',
      'stop: token limit',
    ]);
    expect(generationFacts({ tokens: 3, liveTokensPerSecond: 9, result: result('eos', 3) }).at(-1)).toBe('stop: end of text');
    expect(generationFacts({ tokens: 2, liveTokensPerSecond: 9, result: result('stopped', 2) }).at(-1)).toBe('stop: stopped');
  });
});

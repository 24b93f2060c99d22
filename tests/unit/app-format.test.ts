import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatRate } from '../../src/ui/format.ts';

describe('formatting for people', () => {
  it('writes byte counts in decimal units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(16_777_216)).toBe('16.8 MB');
    expect(formatBytes(270_000_000)).toBe('270 MB');
    expect(formatBytes(-1)).toBe('–');
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

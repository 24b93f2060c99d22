// The max sequence length suggested from the data, and how the method panel takes it.

import { describe, expect, it } from 'vitest';
import { MIN_SEQ_LEN, suggestionWords, suggestSeqLen } from '../../src/ui/dataset/seq-len.ts';
import { MethodState } from '../../src/ui/method/method.svelte.ts';

describe('suggestSeqLen', () => {
  it('rounds the positions the longest example needs (its tokens − 1) up to a power of two', () => {
    expect(suggestSeqLen([12, 23, 9], 512)).toEqual({ longest: 23, suggested: 32, capped: false });
    expect(suggestSeqLen([33], 512)?.suggested).toBe(32); // 33 tokens fill 32 positions
    expect(suggestSeqLen([34], 512)?.suggested).toBe(64);
    expect(suggestSeqLen(Int32Array.from([3, 2]), 512)?.suggested).toBe(MIN_SEQ_LEN);
  });

  it('holds every example whole, for any lengths within the model’s limit', () => {
    for (let longest = 2; longest <= 513; longest++) {
      const s = suggestSeqLen([1, longest], 512)!;
      expect(s.suggested).toBeGreaterThanOrEqual(longest - 1);
      expect(s.suggested < 2 * (longest - 1) || s.suggested === MIN_SEQ_LEN).toBe(true);
    }
  });

  it('stops at the model’s limit and says so', () => {
    const s = suggestSeqLen([900], 512)!;
    expect(s).toEqual({ longest: 900, suggested: 512, capped: true });
    expect(suggestionWords(s)).toContain('more than the model’s limit of 512');
    expect(suggestionWords(suggestSeqLen([23], 512)!)).toBe('longest example: 23 tokens — 32 is enough');
    expect(suggestSeqLen([], 512)).toBeNull();
  });
});

describe('the method panel’s max sequence length', () => {
  it('follows the data’s suggestion until the user sets one, and again after a reset', () => {
    const m = new MethodState();
    m.suggestLength(32);
    expect(m.config.max_length).toBe(32);
    m.maxLength = 100;
    m.suggestLength(16);
    expect(m.config.max_length).toBe(100);
    m.reset();
    expect(m.lengthSetByUser).toBe(false);
    m.suggestLength(16);
    expect(m.config.max_length).toBe(16);
  });
});

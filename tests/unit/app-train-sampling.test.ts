// Compare's promise, "same seed, same sampling": the base side draws tokens with the base runtime's
// sampler (src/lib/base/sampling.ts), the tuned side with the engine's (src/lib/generate/sampling.ts).
// Given the same logits, seed and settings they must pick the same token, step after step.

import { describe, expect, it } from 'vitest';
import * as base from '../../src/lib/base/sampling.ts';
import * as engine from '../../src/lib/generate/sampling.ts';

function logitsFor(seed: number, V: number): Float32Array {
  const rng = base.createRng(seed);
  // A peaked distribution with ties, like a language model's.
  return Float32Array.from({ length: V }, () => Math.round((rng() * 8 - 4) ** 3 * 4) / 4);
}

const settings = [
  { temperature: 0, topK: 0, topP: 1 },
  { temperature: 0.8, topK: 40, topP: 0.95 },
  { temperature: 1, topK: 0, topP: 1 },
  { temperature: 1.3, topK: 5, topP: 1 },
  { temperature: 0.7, topK: 0, topP: 0.5 },
  { temperature: 2, topK: 1000, topP: 0.99 },
];

describe('the base and engine samplers agree', () => {
  it('produce the same random stream from a seed', () => {
    const a = base.createRng(42);
    const b = engine.createRng(42);
    for (let i = 0; i < 1000; i++) expect(b()).toBe(a());
  });

  it.each(settings)('pick the same tokens for %o', (s) => {
    for (const seed of [0, 7, 42, 2 ** 32 - 1]) {
      const ra = base.createRng(seed);
      const rb = engine.createRng(seed);
      for (let step = 0; step < 50; step++) {
        const logits = logitsFor(seed * 1000 + step, 512);
        const a = base.sampleToken(logits, s, ra);
        const b = engine.sampleToken(logits, { ...s, seed }, rb);
        expect(b, `seed ${seed}, step ${step}`).toBe(a);
      }
    }
  });
});

// The one seeded random source: every reproducible draw in the app (sampling tokens, adapter
// initialisation, dropout seeds, the validation split, the order of training batches) and in the
// tests comes from here, so a seed means the same thing everywhere.

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/**
 * Mulberry32: a small, fast 32-bit generator with a full 2^32 period, good enough for sampling and
 * shuffling, and trivial to reproduce in any language (tests/python reimplements it).
 */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A permutation of 0..n-1 drawn from `seed` (Fisher–Yates, last position first). */
export function permutation(n: number, seed: number): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  const rng = createRng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** One N(0, 1) draw (Box–Muller on two uniform draws of `rng`): Hugging Face's normal_ initialisation. */
export function normalDraw(rng: Rng): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

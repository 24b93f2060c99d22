// Dropout, plain loops in float64: out = inp · keep / (1 - p), where keep (0 or 1) is a PCG hash of
// (seed, element index) — the mask the WGSL kernel draws, bit for bit. With the mask fixed the map is
// linear, so the backward is the same mask and scale applied to dout.

export interface DropoutCache {
  keep: Uint8Array; // (N) 1 = kept
  p: number;
}

/** PCG hash (Jarzynski & Olano 2020), as the kernel computes it in u32 arithmetic. */
function pcg(x: number): number {
  const state = (Math.imul(x >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** The keep mask of n elements for this seed (1 = kept): element i is kept when its 24-bit uniform is >= p. */
export function dropoutMask(n: number, seed: number, p: number): Uint8Array {
  const s = pcg(seed);
  return Uint8Array.from({ length: n }, (_, i) => ((pcg((i ^ s) >>> 0) >>> 8) / 16777216 >= p ? 1 : 0));
}

export function forward(
  inp: Float64Array, // (N)
  p: number,
  seed: number,
): { out: Float64Array; cache: DropoutCache } {
  const keep = dropoutMask(inp.length, seed, p);
  const out = new Float64Array(inp.length); // (N)
  for (let i = 0; i < inp.length; i++) out[i] = keep[i] ? inp[i] / (1 - p) : 0;
  return { out, cache: { keep, p } };
}

// d out_i / d inp_i = keep_i / (1 - p), and 0 off the diagonal.
export function backward(dout: Float64Array, cache: DropoutCache): { dinp: Float64Array } {
  const dinp = new Float64Array(dout.length); // (N)
  for (let i = 0; i < dout.length; i++) dinp[i] = cache.keep[i] ? dout[i] / (1 - cache.p) : 0;
  return { dinp };
}

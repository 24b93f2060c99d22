// Float64 central-difference gradient checks for the CPU references (STYLE.md: "The reference is
// gradient-checked in float64 by central differences on sum(out · dout) with a seeded random dout").

import { createRng } from '../../src/lib/random.ts';

/** n normally distributed numbers (Box-Muller) times `scale`, from `seed`. */
export function randn(n: number, seed: number, scale = 1): Float64Array {
  const rand = createRng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

export interface GradcheckResult {
  /** worst |numeric - analytic| / max(1, |numeric|, |analytic|) over the checked elements */
  maxError: number;
  /** where it happened: input index, element index, both values */
  worst: { input: number; index: number; numeric: number; analytic: number } | null;
  checked: number;
}

/**
 * Compares analytic gradients with central differences of L(x) = sum(f(x) · dout).
 * `forward` computes the op's output from the inputs (it must not mutate them); `backward` returns
 * one gradient per input, in the same order, for the given dout. Inputs listed in `skip` (e.g.
 * integer indices stored as floats) are not perturbed. At most `maxPerInput` elements of each
 * input are probed, chosen by a seeded stride so large tensors stay cheap.
 */
export function gradcheck(
  forward: (inputs: Float64Array[]) => Float64Array,
  backward: (dout: Float64Array) => (Float64Array | null)[],
  inputs: Float64Array[],
  opts: { seed?: number; h?: number; maxPerInput?: number; skip?: number[] } = {},
): GradcheckResult {
  const h = opts.h ?? 1e-6;
  const maxPerInput = opts.maxPerInput ?? 64;
  const out0 = forward(inputs);
  const dout = randn(out0.length, opts.seed ?? 1234);
  const grads = backward(dout);
  const loss = () => {
    const out = forward(inputs);
    let s = 0;
    for (let i = 0; i < out.length; i++) s += out[i] * dout[i];
    return s;
  };
  let maxError = 0;
  let worst: GradcheckResult['worst'] = null;
  let checked = 0;
  inputs.forEach((x, i) => {
    if (opts.skip?.includes(i)) return;
    const g = grads[i];
    if (!g) throw new Error(`gradcheck: backward returned no gradient for input ${i}`);
    if (g.length !== x.length) throw new Error(`gradcheck: gradient ${i} has ${g.length} elements, input has ${x.length}`);
    const step = Math.max(1, Math.floor(x.length / maxPerInput));
    for (let j = (opts.seed ?? 0) % step; j < x.length; j += step) {
      const saved = x[j];
      x[j] = saved + h;
      const lp = loss();
      x[j] = saved - h;
      const lm = loss();
      x[j] = saved;
      const numeric = (lp - lm) / (2 * h);
      const err = Math.abs(numeric - g[j]) / Math.max(1, Math.abs(numeric), Math.abs(g[j]));
      checked++;
      if (err > maxError || worst === null) {
        if (err >= maxError) worst = { input: i, index: j, numeric, analytic: g[j] };
        maxError = Math.max(maxError, err);
      }
    }
  });
  return { maxError, worst, checked };
}

/** Largest |a-b| and largest |a-b|/max(|b|,floor) between two arrays of equal length. */
export function compare(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  floor = 1e-6,
): { maxAbs: number; maxRel: number; index: number } {
  if (actual.length !== expected.length) {
    throw new Error(`compare: length ${actual.length} != ${expected.length}`);
  }
  let maxAbs = 0;
  let maxRel = 0;
  let index = -1;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= maxAbs)) {
      maxAbs = Number.isNaN(d) ? Infinity : d;
      index = i;
    }
    maxRel = Math.max(maxRel, Number.isNaN(d) ? Infinity : d / Math.max(Math.abs(expected[i]), floor));
  }
  return { maxAbs, maxRel, index };
}

// GPU-vs-reference op tests in a few lines each.
//
// HOW TO WRITE AN OP TEST (tests/ops/residual.test.ts is a complete example):
//
//   import { describe, expect, it } from 'vitest';
//   import { useGpu, randF32, input, zeros, runOp, expectClose, expectReferenceGradients, TOL } from '../helpers/op-test.ts';
//   import * as ref from '../../src/lib/ops/myop/reference.ts';
//   import { myopForward } from '../../src/lib/ops/myop/myop.ts';
//
//   const gpu = useGpu();                         // one Gpu per file (beforeAll/afterAll inside)
//
//   it('reference gradients match central differences', () => {
//     const x = randF32(6 * 5, 1);                // seeded, already rounded to float32
//     expectReferenceGradients(([x]) => ref.forward(x), (dout, cache) => [ref.backward(dout, cache).dinp], [x]);
//   });
//
//   it.each([[1, 7], [3, 64]])('forward B·T=%i C=%i', async (N, C) => {
//     const x = randF32(N * C, 2);
//     const got = await runOp(gpu(), { out: zeros([N, C]), inp: input(x, [N, C]) },
//                             (rec, t) => myopForward(rec, t.out, t.inp));
//     expectClose(got.out, ref.forward(x).out, TOL.elementwise, 'myop forward');
//   });
//
// - runOp uploads every host tensor to its own GPUBuffer (so no aliasing rules bite), records the
//   op into one Recorder, submits, reads EVERY tensor back as Float64Array (outputs and inputs, so
//   a test can also check that inputs were not modified) and frees the buffers.
// - Give outputs initial data with input(...) instead of zeros(...) to test accumulation (beta=1).
// - The reference runs in float64 on the same float32-rounded numbers the GPU got (randF32/roundF32).
// - Tolerances (STYLE.md): TOL.elementwise (1e-5) for elementwise ops, TOL.reduction (1e-4) for
//   sums/matmuls. expectClose allows |got - want| <= rtol * (|want| + rms(want)), so values that
//   cancel to ~0 in a reduction are judged against the tensor's scale, not against 0.
// - Set OP_TEST_VERBOSE=1 to print the worst error of every comparison.
// - Encoding real code: new Recorder(gpu) records many dispatches (one Params slot each) into one
//   command buffer; rec.submit(); then readTensors(gpu, [...]) is the only await. Errors from WGSL
//   compilation (file:line:col) and validation (naming the op) are thrown by gpu.checkErrors(),
//   which readTensors() calls.
// - Run: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium \
//          npx vitest run --project gpu tests/ops/<op>.test.ts
import { expect } from 'vitest';
import { readTensors, Recorder, type DType, type Gpu, type Tensor } from '../../src/lib/gpu/index.ts';
import { uploadTensor } from './gpu.ts';
import { gradcheck, randn, type GradcheckResult } from './gradcheck.ts';
import { createRng } from '../../src/lib/random.ts';

export { uploadTensor, useGpu } from './gpu.ts';
export { randn } from './gradcheck.ts';

export interface Tolerance {
  /** Relative tolerance. */
  rtol: number;
  /** Absolute floor; defaults to rtol · rms(expected). */
  atol?: number;
}

export const TOL = {
  elementwise: { rtol: 1e-5 } as Tolerance,
  reduction: { rtol: 1e-4 } as Tolerance,
};

/** Rounds every value to the nearest float32, kept as float64 for the reference. */
export function roundF32(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(Float32Array.from(x));
}

/** n seeded normal values times `scale`, rounded to float32. */
export function randF32(n: number, seed: number, scale = 1): Float64Array {
  return roundF32(randn(n, seed, scale));
}

/** n seeded integers in [0, max) (token ids and the like). */
export function randInts(n: number, max: number, seed: number): Int32Array {
  const rand = createRng(seed);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * max);
  return out;
}

export interface HostTensor {
  data: ArrayLike<number>;
  shape: readonly number[];
  dtype: DType;
}

export const input = (data: ArrayLike<number>, shape: readonly number[], dtype: DType = 'f32'): HostTensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`input: ${data.length} values for shape [${shape}]`);
  return { data, shape, dtype };
};

export const zeros = (shape: readonly number[], dtype: DType = 'f32'): HostTensor => ({
  data: new Float64Array(shape.reduce((a, b) => a * b, 1)),
  shape,
  dtype,
});

/**
 * Uploads the tensors, lets `run` record the op(s), submits, and reads every tensor back
 * (as Float64Array, by name).
 */
export async function runOp<K extends string>(
  gpu: Gpu,
  tensors: Record<K, HostTensor>,
  run: (rec: Recorder, t: Record<K, Tensor>) => void,
): Promise<Record<K, Float64Array>> {
  const names = Object.keys(tensors) as K[];
  const t = {} as Record<K, Tensor>;
  for (const k of names) t[k] = uploadTensor(gpu, tensors[k].data, tensors[k].shape, tensors[k].dtype, k);
  try {
    const rec = new Recorder(gpu, 'op-test');
    run(rec, t);
    rec.submit();
    const host = await readTensors(gpu, names.map((k) => t[k]));
    const out = {} as Record<K, Float64Array>;
    names.forEach((k, i) => (out[k] = Float64Array.from(host[i])));
    return out;
  } finally {
    for (const k of names) t[k].buffer.destroy();
  }
}

function rms(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return x.length ? Math.sqrt(s / x.length) : 0;
}

export interface CloseStats {
  maxAbs: number;
  /** worst |got - want| / (atol + rtol·|want|) · rtol, i.e. the error in units comparable to rtol */
  worstRel: number;
  index: number;
}

/** Asserts |got - want| <= atol + rtol·|want| everywhere (NaN fails), and returns the worst case. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
  what = 'values',
): CloseStats {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const atol = tol.atol ?? tol.rtol * Math.max(rms(expected), 1e-30);
  let worst = 0;
  let index = -1;
  let maxAbs = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    const ratio = Number.isNaN(d) ? Infinity : d / (atol + tol.rtol * Math.abs(expected[i]));
    if (ratio > worst || index < 0) {
      worst = ratio;
      index = i;
    }
    if (!(d <= maxAbs)) maxAbs = Number.isNaN(d) ? Infinity : d;
  }
  const stats = { maxAbs, worstRel: worst * tol.rtol, index };
  if (process.env.OP_TEST_VERBOSE) {
    console.log(`${what}: max |diff| ${maxAbs.toExponential(2)}, worst scaled error ${stats.worstRel.toExponential(2)} (rtol ${tol.rtol})`);
  }
  const msg =
    index >= 0
      ? `${what}: element ${index} is ${actual[index]}, expected ${expected[index]} ` +
        `(|diff| ${Math.abs(actual[index] - expected[index]).toExponential(3)}, allowed ${(atol + tol.rtol * Math.abs(expected[index])).toExponential(3)})`
      : what;
  expect(worst, msg).toBeLessThanOrEqual(1);
  return stats;
}

/** Asserts a float64 gradcheck passed (default: relative error below 1e-6). */
export function expectGradcheck(r: GradcheckResult, maxError = 1e-6): void {
  expect(r.checked, 'gradcheck probed no elements').toBeGreaterThan(0);
  expect(r.maxError, `gradcheck worst ${JSON.stringify(r.worst)}`).toBeLessThan(maxError);
}

/**
 * Gradient-checks a reference op in float64 (STYLE.md): `forward(inputs)` returns `{ out, cache }`,
 * `backward(dout, cache)` the gradients of the inputs in order (null for a `skip`ped input). Inputs
 * of up to `maxPerInput` elements (default 1000) are probed at every element, and the test then also
 * checks that every element was probed. Returns the result for further checks.
 */
export function expectReferenceGradients<C>(
  forward: (inputs: Float64Array[]) => { out: Float64Array; cache: C },
  backward: (dout: Float64Array, cache: C) => (Float64Array | null)[],
  inputs: Float64Array[],
  opts: { maxError?: number; maxPerInput?: number; skip?: number[] } = {},
): GradcheckResult {
  const maxPerInput = opts.maxPerInput ?? 1000;
  const r = gradcheck((x) => forward(x).out, (dout) => backward(dout, forward(inputs).cache), inputs, { maxPerInput, skip: opts.skip });
  const probed = inputs.filter((x, i) => !opts.skip?.includes(i));
  if (probed.every((x) => x.length <= maxPerInput)) expect(r.checked).toBe(probed.reduce((n, x) => n + x.length, 0));
  expectGradcheck(r, opts.maxError);
  return r;
}

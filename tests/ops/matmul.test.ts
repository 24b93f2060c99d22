// Matmul: out = inp·Wᵀ + bias (torch Linear; Conv1D with transposeWeight), dinp = dout·W,
// dweight = doutᵀ·inp, dbias = Σ dout — as a tiled GEMM with split-K for long K.
import { describe, expect, it } from 'vitest';
import { expectClose, expectReferenceGradients, input, randF32, runOp, TOL, useGpu, zeros } from '../helpers/op-test.ts';
import * as ref from '../../src/lib/ops/matmul/reference.ts';
import { chooseSplitK, chooseTile, gemm, matmulBackward, matmulForward, TILES } from '../../src/lib/ops/matmul/matmul.ts';
import { roundToF16 } from '../../src/lib/model/safetensors-dtypes.ts';

const gpu = useGpu();

// (B·T, C, OC): tile multiples and not (square tiles are 64×64, 16 deep), tiny, and LoRA-like
// shapes that take the narrow tiles (an output side of 16 or less), the shallow one (K ≤ 8) and split-K.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [64, 64, 64],
  [70, 33, 130],
  [130, 96, 65],
  [600, 40, 4], // x·Aᵀ (B·T, r); dweight (4,40) with K = B·T = 600: narrow-M tile and split-K
  [300, 13, 70], // dinp (300,13): narrow-N tile; dweight (70,13) with K = 300
  [9, 70, 300], // out (9,300): narrow-M tile
  [70, 8, 130], // u·Bᵀ of LoRA (B·T, r=8)·(r, OC): K = 8 takes the shallow tile
  [100, 6, 90], // K = 6: shallow tile, K not a multiple of its depth
];

describe('matmul reference', () => {
  it.each([false, true])('gradients match central differences (transposeWeight=%s)', (t) => {
    const [M, C, OC] = [3, 4, 5];
    const inp = randF32(M * C, 1);
    const w = randF32(OC * C, 2);
    const bias = randF32(OC, 3);
    expectReferenceGradients(
      ([x, wt, b]) => ref.forward(x, wt, b, C, OC, { transposeWeight: t }),
      (dout, cache) => {
        const g = ref.backward(dout, cache);
        return [g.dinp, g.dweight, g.dbias];
      },
      [inp, w, bias],
    );
  });

  it('gemm honours both layouts, alpha and beta', () => {
    // A (2,3) = [[1,2,3],[4,5,6]], B (3,2) = [[1,0],[0,1],[1,1]]: A·B = [[4,5],[10,11]].
    const A = Float64Array.from([1, 2, 3, 4, 5, 6]);
    const B = Float64Array.from([1, 0, 0, 1, 1, 1]);
    const At = Float64Array.from([1, 4, 2, 5, 3, 6]);
    const Bt = Float64Array.from([1, 0, 1, 0, 1, 1]);
    expect(Array.from(ref.gemm(A, B, 2, 2, 3))).toEqual([4, 5, 10, 11]);
    expect(Array.from(ref.gemm(At, Bt, 2, 2, 3, { transA: true, transB: true }))).toEqual([4, 5, 10, 11]);
    const out = Float64Array.from([1, 1, 1, 1]);
    expect(Array.from(ref.gemm(A, B, 2, 2, 3, { alpha: 2, beta: 1, out, bias: Float64Array.from([0, 10]) }))).toEqual([9, 21, 21, 33]);
  });
});

describe('matmul on the GPU', () => {
  it.each(SHAPES)('forward with bias matches the reference at B·T=%i C=%i OC=%i', async (M, C, OC) => {
    const inp = randF32(M * C, 10);
    const w = randF32(OC * C, 11, 0.5);
    const bias = randF32(OC, 12);
    const got = await runOp(
      gpu(),
      { out: zeros([M, OC]), inp: input(inp, [M, C]), w: input(w, [OC, C]), bias: input(bias, [OC]) },
      (rec, t) => matmulForward(rec, t.out, t.inp, t.w, { bias: t.bias }),
    );
    expectClose(got.out, ref.forward(inp, w, bias, C, OC).out, TOL.reduction, 'out');
  });

  it.each(SHAPES)('backward matches the reference at B·T=%i C=%i OC=%i', async (M, C, OC) => {
    const inp = randF32(M * C, 20);
    const w = randF32(OC * C, 21, 0.5);
    const dout = randF32(M * OC, 22);
    const got = await runOp(
      gpu(),
      {
        dinp: zeros([M, C]),
        dweight: zeros([OC, C]),
        dbias: zeros([OC]),
        dout: input(dout, [M, OC]),
        inp: input(inp, [M, C]),
        w: input(w, [OC, C]),
      },
      (rec, t) => matmulBackward(rec, { dinp: t.dinp, dweight: t.dweight, dbias: t.dbias }, t.dout, t.inp, t.w),
    );
    const g = ref.backward(dout, ref.forward(inp, w, new Float64Array(OC), C, OC).cache);
    expectClose(got.dinp, g.dinp, TOL.reduction, 'dinp');
    expectClose(got.dweight, g.dweight, TOL.reduction, 'dweight');
    expectClose(got.dbias, g.dbias!, TOL.reduction, 'dbias');
  });

  it.each([
    [70, 33, 130],
    [130, 96, 65],
  ])('Conv1D weights (C,OC) work without a copy at B·T=%i C=%i OC=%i', async (M, C, OC) => {
    const inp = randF32(M * C, 30);
    const w = randF32(C * OC, 31, 0.5); // (C, OC)
    const bias = randF32(OC, 32);
    const dout = randF32(M * OC, 33);
    const got = await runOp(
      gpu(),
      {
        out: zeros([M, OC]),
        dinp: zeros([M, C]),
        dweight: zeros([C, OC]),
        dout: input(dout, [M, OC]),
        inp: input(inp, [M, C]),
        w: input(w, [C, OC]),
        bias: input(bias, [OC]),
      },
      (rec, t) => {
        matmulForward(rec, t.out, t.inp, t.w, { bias: t.bias, transposeWeight: true });
        matmulBackward(rec, { dinp: t.dinp, dweight: t.dweight }, t.dout, t.inp, t.w, { transposeWeight: true });
      },
    );
    const r = ref.forward(inp, w, bias, C, OC, { transposeWeight: true });
    const g = ref.backward(dout, r.cache);
    expectClose(got.out, r.out, TOL.reduction, 'out');
    expectClose(got.dinp, g.dinp, TOL.reduction, 'dinp');
    expectClose(got.dweight, g.dweight, TOL.reduction, 'dweight');
  });

  it('accumulates into existing outputs and gradients, scaled by alpha (LoRA onto a base output)', async () => {
    const [M, C, OC] = [50, 24, 36];
    const inp = randF32(M * C, 40);
    const w = randF32(OC * C, 41);
    const dout = randF32(M * OC, 42);
    const out0 = randF32(M * OC, 43);
    const dinp0 = randF32(M * C, 44);
    const dw0 = randF32(OC * C, 45);
    const db0 = randF32(OC, 46);
    const alpha = 0.375;
    const got = await runOp(
      gpu(),
      {
        out: input(out0, [M, OC]),
        dinp: input(dinp0, [M, C]),
        dweight: input(dw0, [OC, C]),
        dbias: input(db0, [OC]),
        dout: input(dout, [M, OC]),
        inp: input(inp, [M, C]),
        w: input(w, [OC, C]),
      },
      (rec, t) => {
        matmulForward(rec, t.out, t.inp, t.w, { alpha, accumulate: true });
        matmulBackward(rec, { dinp: t.dinp, dweight: t.dweight, dbias: t.dbias }, t.dout, t.inp, t.w, { alpha, accumulate: true });
      },
    );
    const r = ref.forward(inp, w, null, C, OC);
    const g = ref.backward(dout, { ...r.cache, hasBias: true });
    expectClose(got.out, out0.map((x, i) => x + alpha * r.out[i]), TOL.reduction, 'out');
    expectClose(got.dinp, dinp0.map((x, i) => x + alpha * g.dinp[i]), TOL.reduction, 'dinp');
    expectClose(got.dweight, dw0.map((x, i) => x + alpha * g.dweight[i]), TOL.reduction, 'dweight');
    expectClose(got.dbias, db0.map((x, i) => x + g.dbias![i]), TOL.reduction, 'dbias');
  });

  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])('gemm transA=%s transB=%s with forced split-K matches the reference', async (transA, transB) => {
    const [M, N, K] = [37, 45, 301];
    const a = randF32(M * K, 50);
    const b = randF32(K * N, 51);
    const bias = randF32(N, 52);
    const out0 = randF32(M * N, 53);
    for (const splitK of [1, 3, 7]) {
      const got = await runOp(
        gpu(),
        { out: input(out0, [M, N]), a: input(a, [transA ? K : M, transA ? M : K]), b: input(b, [transB ? N : K, transB ? K : N]), bias: input(bias, [N]) },
        (rec, t) => gemm(rec, t.out, t.a, t.b, { M, N, K }, { transA, transB, bias: t.bias, alpha: 0.5, beta: 1, splitK }),
      );
      const want = ref.gemm(a, b, M, N, K, { transA, transB, bias, alpha: 0.5, beta: 1, out: out0 });
      expectClose(got.out, want, TOL.reduction, `gemm splitK=${splitK}`);
    }
  });

  it('picks split-K for tall-skinny products and not for big outputs', () => {
    expect(chooseSplitK(4, 576, 4096)).toBeGreaterThan(1); // LoRA dA: (r, C) with K = B·T
    expect(chooseSplitK(576, 4, 4096)).toBeGreaterThan(1);
    expect(chooseSplitK(4096, 4096, 4096)).toBe(1);
    expect(chooseSplitK(4, 576, 100)).toBe(1); // short K: nothing to split
  });

  it('uses narrow tiles when one side of the output is 16 or less, shallow ones for K ≤ 8, square ones otherwise', () => {
    expect(chooseTile(4096, 8)).toBe(TILES.narrowN); // LoRA x·Aᵀ
    expect(chooseTile(8, 576)).toBe(TILES.narrowM); // LoRA dA
    expect(chooseTile(576, 576)).toBe(TILES.square);
    expect(chooseTile(4096, 576, 8)).toBe(TILES.shallow); // LoRA u·Bᵀ and du·A with r = 8
    expect(chooseTile(4096, 576, 16)).toBe(TILES.square);
    for (const t of Object.values(TILES)) {
      const bytes = t.BK * 8 * (t.WG_X + t.WG_Y) * 4;
      expect(bytes).toBeLessThanOrEqual(16384); // WebGPU's guaranteed workgroup storage
    }
  });

  it('is deterministic: the split-K dweight of a long K is bitwise identical across runs', async () => {
    const [M, C, OC] = [2048, 48, 8];
    const inp = randF32(M * C, 60);
    const dout = randF32(M * OC, 61);
    const w = randF32(OC * C, 62);
    const run = () =>
      runOp(gpu(), { dweight: zeros([OC, C]), dout: input(dout, [M, OC]), inp: input(inp, [M, C]), w: input(w, [OC, C]) }, (rec, t) =>
        matmulBackward(rec, { dweight: t.dweight }, t.dout, t.inp, t.w),
      );
    const [x, y] = [await run(), await run()];
    expect(chooseSplitK(OC, C, M)).toBeGreaterThan(1);
    expect(Array.from(x.dweight)).toEqual(Array.from(y.dweight));
    expectClose(x.dweight, ref.backward(dout, ref.forward(inp, w, null, C, OC).cache).dweight, TOL.reduction, 'dweight');
  });
});

// Frozen base weights stored as packed f16 (two halves per u32 word), decoded to f32 as B is loaded.
describe('matmul with an f16 B operand', () => {
  const f16 = (x: Float64Array) => Float64Array.from(roundToF16(Float32Array.from(x)));

  it.each([
    [false, 37, 45, 301],
    [true, 37, 45, 301],
    [false, 5, 7, 3],
    [true, 5, 7, 3],
    [true, 70, 33, 129],
  ])('gemm transB=%s M=%i N=%i K=%i equals the f32 path on the rounded values, for split-K 1, 3 and 7', async (transB, M, N, K) => {
    const a = randF32(M * K, 70);
    const b = randF32(K * N, 71, 0.5);
    const bias = randF32(N, 72);
    const out0 = randF32(M * N, 73);
    const bShape = [transB ? N : K, transB ? K : N];
    for (const splitK of [1, 3, 7]) {
      const run = (dtype: 'f32' | 'f16', values: Float64Array) =>
        runOp(gpu(), { out: input(out0, [M, N]), a: input(a, [M, K]), b: input(values, bShape, dtype), bias: input(bias, [N]) }, (rec, t) =>
          gemm(rec, t.out, t.a, t.b, { M, N, K }, { transB, bias: t.bias, alpha: 0.5, beta: 1, splitK }),
        );
      const half = await run('f16', b); // the upload rounds to f16
      const rounded = await run('f32', f16(b));
      expect(Array.from(half.b)).toEqual(Array.from(f16(b))); // what the GPU held, read back decoded
      expect(Array.from(half.out)).toEqual(Array.from(rounded.out)); // same math, bit for bit
      const want = ref.gemm(a, f16(b), M, N, K, { transB, bias, alpha: 0.5, beta: 1, out: out0 });
      expectClose(half.out, want, { rtol: 1e-6 }, `f16 gemm splitK=${splitK}`);
    }
  });

  it.each([
    [false, 70, 33, 129],
    [true, 70, 33, 129],
    [false, 9, 13, 7],
  ])('forward and dinp (transposeWeight=%s) at B·T=%i C=%i OC=%i match the reference on the rounded weight', async (t, M, C, OC) => {
    const inp = randF32(M * C, 80);
    const w = randF32(OC * C, 81, 0.5);
    const bias = randF32(OC, 82);
    const dout = randF32(M * OC, 83);
    const wShape = t ? [C, OC] : [OC, C];
    const got = await runOp(
      gpu(),
      { out: zeros([M, OC]), dinp: zeros([M, C]), inp: input(inp, [M, C]), w: input(w, wShape, 'f16'), bias: input(bias, [OC]), dout: input(dout, [M, OC]) },
      (rec, x) => {
        matmulForward(rec, x.out, x.inp, x.w, { bias: x.bias, transposeWeight: t });
        matmulBackward(rec, { dinp: x.dinp }, x.dout, x.inp, x.w, { transposeWeight: t });
      },
    );
    const r = ref.forward(inp, f16(w), bias, C, OC, { transposeWeight: t });
    expectClose(got.out, r.out, { rtol: 1e-6 }, 'out');
    expectClose(got.dinp, ref.backward(dout, r.cache).dinp, { rtol: 1e-6 }, 'dinp');
  });

  it('refuses an f16 A operand', async () => {
    await expect(
      runOp(gpu(), { out: zeros([2, 2]), a: input([1, 2, 3, 4], [2, 2], 'f16'), b: input([1, 2, 3, 4], [2, 2]) }, (rec, t) =>
        gemm(rec, t.out, t.a, t.b, { M: 2, N: 2, K: 2 }),
      ),
    ).rejects.toThrow(/A must be f32/);
  });
});

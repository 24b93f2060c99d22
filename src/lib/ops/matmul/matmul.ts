// Matmul, torch Linear semantics: out (B·T, OC) = inp (B·T, C) · Wᵀ + bias with W stored (OC, C),
// or (C, OC) for GPT-2's Conv1D (transposeWeight, no copy). Backward, as in llm.c:
//   dinp    (B·T, C)  = dout · W           (a GEMM with K = OC)
//   dweight (OC, C)   = doutᵀ · inp        (a GEMM with K = B·T: split-K when the output is small)
//   dbias   (OC)      = Σ_bt dout[bt, :]   (backward.wgsl)
// All three products run the one tiled kernel in forward.wgsl with different operand layouts.
import { grid1d, numel, params, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import gemmWgsl from './forward.wgsl?raw';
import splitkWgsl from './splitk_reduce.wgsl?raw';
import biasWgsl from './backward.wgsl?raw';

const GEMM: Kernel = { name: 'matmul_gemm', file: 'src/lib/ops/matmul/forward.wgsl', code: gemmWgsl };
const SPLITK_REDUCE: Kernel = { name: 'matmul_splitk_reduce', file: 'src/lib/ops/matmul/splitk_reduce.wgsl', code: splitkWgsl };
const BIAS_BACKWARD: Kernel = { name: 'matmul_bias_backward', file: 'src/lib/ops/matmul/backward.wgsl', code: biasWgsl };

/** A tile shape: WG_X×WG_Y invocations, each computing 8×8 outputs; BK deep. */
export interface Tile {
  WG_X: number;
  WG_Y: number;
  BK: number;
}

/**
 * Tiles by output shape. Square 64×64 tiles in general; LoRA's products have one side of only r
 * (4..16) — x·Aᵀ (B·T, r), dB (OC, r), dA (r, C) — where a 64-wide tile would compute 4-16× zeros,
 * so those get 16-wide tiles that are 256 long. LoRA's u·Bᵀ and du·A have K = r: at r ≤ 8 a
 * 16-deep tile would be half zeros, so they get an 8-deep one (a third faster on SwiftShader at
 * r = 8). All keep BK·(BM+BN)·4 bytes under 16 KiB, the smallest maxComputeWorkgroupStorageSize
 * WebGPU allows.
 */
export const TILES = {
  square: { WG_X: 8, WG_Y: 8, BK: 16 }, // 64×64
  shallow: { WG_X: 8, WG_Y: 8, BK: 8 }, // 64×64, 8 deep
  narrowN: { WG_X: 2, WG_Y: 32, BK: 8 }, // BM 256 × BN 16
  narrowM: { WG_X: 32, WG_Y: 2, BK: 8 }, // BM 16 × BN 256
} as const satisfies Record<string, Tile>;

export function chooseTile(M: number, N: number, K = Infinity): Tile {
  if (N <= 16 && M > N) return TILES.narrowN;
  if (M <= 16 && N > M) return TILES.narrowM;
  return K <= 8 ? TILES.shallow : TILES.square;
}

/** Split-K aims for at least this many workgroups in flight. */
const TARGET_WORKGROUPS = 128;
/** ...but never slices thinner than this many k. */
const MIN_K_PER_SLICE = 256;

/**
 * How many K-slices a GEMM of this shape uses: 1 unless the output has too few tiles to fill the
 * GPU and K is long (dweight with K = B·T, LoRA's small r×C gradients). Depends on the shape only,
 * so results are deterministic.
 */
export function chooseSplitK(M: number, N: number, K: number): number {
  const t = chooseTile(M, N);
  const tiles = Math.ceil(M / (8 * t.WG_Y)) * Math.ceil(N / (8 * t.WG_X));
  if (tiles >= TARGET_WORKGROUPS) return 1;
  return Math.max(1, Math.min(Math.ceil(TARGET_WORKGROUPS / tiles), Math.floor(K / MIN_K_PER_SLICE)));
}

export interface GemmOptions {
  /** A stored (K,M) instead of (M,K). */
  transA?: boolean;
  /** B stored (N,K) instead of (K,N). */
  transB?: boolean;
  /** (N), added to every row. */
  bias?: Tensor;
  /** Scales A·B (default 1). */
  alpha?: number;
  /** 0 (default): overwrite out; 1: add into out. */
  beta?: number;
  /** K-slices (default chooseSplitK). Partial sums go to gpu.scratch('matmul:splitk'). */
  splitK?: number;
}

/**
 * out (M,N) = alpha · A·B + bias + beta · out. out may not share a buffer with a, b or bias. B may be
 * f16 (frozen base weights in half precision), decoded to f32 as it is loaded.
 */
export function gemm(
  rec: Recorder,
  out: Tensor,
  a: Tensor,
  b: Tensor,
  shape: { M: number; N: number; K: number },
  o: GemmOptions = {},
): void {
  const { M, N, K } = shape;
  const name = 'matmul';
  if (numel(out.shape) !== M * N) throw new Error(`${name}: out [${out.shape}] is not ${M}×${N}`);
  if (numel(a.shape) !== M * K) throw new Error(`${name}: A [${a.shape}] is not ${M}×${K}`);
  if (numel(b.shape) !== K * N) throw new Error(`${name}: B [${b.shape}] is not ${K}×${N}`);
  if (o.bias && numel(o.bias.shape) !== N) throw new Error(`${name}: bias [${o.bias.shape}] is not ${N}`);
  if (M === 0 || N === 0) return;
  const alpha = o.alpha ?? 1;
  const beta = o.beta ?? 0;
  const bias = o.bias ?? rec.gpu.scratch('matmul:nobias', 1);
  const hasBias = o.bias ? 1 : 0;
  const tile = chooseTile(M, N, K);
  if (a.dtype !== 'f32' || out.dtype !== 'f32' || (b.dtype !== 'f32' && b.dtype !== 'f16')) {
    throw new Error(`${name}: out and A must be f32 and B f32 or f16 (got ${out.dtype}, ${a.dtype}, ${b.dtype})`);
  }
  const overrides = { ...tile, TRANS_A: o.transA ? 1 : 0, TRANS_B: o.transB ? 1 : 0, ...(b.dtype === 'f16' ? { B_F16: 1 } : {}) };
  const tiles = [Math.ceil(N / (8 * tile.WG_X)), Math.ceil(M / (8 * tile.WG_Y))];

  let S = Math.max(1, Math.min(o.splitK ?? chooseSplitK(M, N, K), Math.ceil(K / tile.BK)));
  const kChunk = Math.ceil(Math.ceil(K / S) / tile.BK) * tile.BK;
  S = Math.max(1, Math.ceil(K / kChunk));

  if (S === 1) {
    rec.dispatch({
      kernel: GEMM,
      overrides,
      outputs: [out],
      inputs: [a, b, bias],
      params: params(M, N, K, Math.max(K, 1), hasBias, { f32: alpha }, { f32: beta }),
      workgroups: [tiles[0], tiles[1], 1],
    });
    return;
  }
  // Split-K: S partial (M,N) products into scratch, then an ordered sum of the slices.
  const partial = rec.gpu.scratch('matmul:splitk', S * M * N);
  rec.dispatch({
    kernel: GEMM,
    overrides,
    outputs: [partial],
    inputs: [a, b, bias],
    params: params(M, N, K, kChunk, 0, { f32: 1 }, { f32: 0 }),
    workgroups: [tiles[0], tiles[1], S],
  });
  rec.dispatch({
    kernel: SPLITK_REDUCE,
    overrides: { WG: 256 },
    outputs: [out],
    inputs: [partial, bias],
    params: params(M, N, S, hasBias, { f32: alpha }, { f32: beta }),
    workgroups: grid1d(M * N, 256),
  });
}

function linearShape(op: string, inp: Tensor, weight: Tensor, transposeWeight: boolean) {
  if (weight.shape.length !== 2) throw new Error(`${op}: weight [${weight.shape}] is not 2-D`);
  const [OC, C] = transposeWeight ? [weight.shape[1], weight.shape[0]] : [weight.shape[0], weight.shape[1]];
  const n = numel(inp.shape);
  if (n % C !== 0) throw new Error(`${op}: inp [${inp.shape}] does not have ${C} channels for weight [${weight.shape}]`);
  return { M: n / C, C, OC };
}

export interface MatmulOptions {
  /** (OC) */
  bias?: Tensor;
  /** W stored (C, OC) (GPT-2 Conv1D) instead of (OC, C) (torch Linear). */
  transposeWeight?: boolean;
  /** Scales inp·Wᵀ (LoRA's alpha/r); the backward scales dinp and dweight the same way. */
  alpha?: number;
  /** Add into out instead of overwriting it (e.g. a LoRA path onto the base projection). */
  accumulate?: boolean;
}

/** out (B·T, OC) = alpha · inp (B·T, C) · Wᵀ + bias (+ out if accumulate). */
export function matmulForward(rec: Recorder, out: Tensor, inp: Tensor, weight: Tensor, o: MatmulOptions = {}): void {
  const t = o.transposeWeight ?? false;
  const { M, C, OC } = linearShape('matmulForward', inp, weight, t);
  gemm(rec, out, inp, weight, { M, N: OC, K: C }, { transB: !t, bias: o.bias, alpha: o.alpha, beta: o.accumulate ? 1 : 0 });
}

export interface MatmulGrads {
  /** (B·T, C) */
  dinp?: Tensor;
  /** like weight: (OC, C), or (C, OC) with transposeWeight */
  dweight?: Tensor;
  /** (OC) */
  dbias?: Tensor;
}

export interface MatmulBackwardOptions {
  transposeWeight?: boolean;
  alpha?: number;
  /** Add into the gradients (all, or per gradient) instead of overwriting them. */
  accumulate?: boolean | { dinp?: boolean; dweight?: boolean; dbias?: boolean };
  /** Force the split-K factor of the dweight product (default chooseSplitK). */
  splitK?: number;
}

/** The gradients asked for in `grads`, from dout (B·T, OC), inp (B·T, C) and weight. */
export function matmulBackward(
  rec: Recorder,
  grads: MatmulGrads,
  dout: Tensor,
  inp: Tensor,
  weight: Tensor,
  o: MatmulBackwardOptions = {},
): void {
  const t = o.transposeWeight ?? false;
  const { M, C, OC } = linearShape('matmulBackward', inp, weight, t);
  if (numel(dout.shape) !== M * OC) throw new Error(`matmulBackward: dout [${dout.shape}] is not ${M}×${OC}`);
  const acc = (k: 'dinp' | 'dweight' | 'dbias') =>
    (typeof o.accumulate === 'object' ? o.accumulate[k] : o.accumulate) ? 1 : 0;
  if (grads.dinp) {
    // dinp[m,c] = Σ_o dout[m,o] · W[o,c]: B = W is (K=OC, N=C), stored transposed for Conv1D.
    gemm(rec, grads.dinp, dout, weight, { M, N: C, K: OC }, { transB: t, alpha: o.alpha, beta: acc('dinp') });
  }
  if (grads.dweight) {
    // Linear: dW (OC,C) = doutᵀ·inp, A = dout stored (K=B·T, M=OC). Conv1D: dW (C,OC) = inpᵀ·dout.
    const [a, b, MM, NN] = t ? [inp, dout, C, OC] : [dout, inp, OC, C];
    gemm(rec, grads.dweight, a, b, { M: MM, N: NN, K: M }, { transA: true, alpha: o.alpha, beta: acc('dweight'), splitK: o.splitK });
  }
  if (grads.dbias) {
    if (numel(grads.dbias.shape) !== OC) throw new Error(`matmulBackward: dbias [${grads.dbias.shape}] is not ${OC}`);
    rec.dispatch({
      kernel: BIAS_BACKWARD,
      overrides: { WG_X: 32, WG_Y: 8 },
      outputs: [grads.dbias],
      inputs: [dout],
      params: params(M, OC, { f32: acc('dbias') }),
      workgroups: [Math.ceil(OC / 32)],
    });
  }
}

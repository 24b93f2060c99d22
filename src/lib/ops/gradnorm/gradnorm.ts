// Global gradient norm and clip scale, computed on the GPU into a small `stats` tensor that AdamW
// reads directly (no readback), plus a non-finite count the train step reads back with the loss.
import { createTensor, numel, params, type Gpu, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import partialWgsl from './partial_sums.wgsl?raw';
import finalizeWgsl from './finalize.wgsl?raw';

const PARTIAL: Kernel = { name: 'gradnorm_partial_sums', file: 'src/lib/ops/gradnorm/partial_sums.wgsl', code: partialWgsl };
const FINALIZE: Kernel = { name: 'gradnorm_finalize', file: 'src/lib/ops/gradnorm/finalize.wgsl', code: finalizeWgsl };

/**
 * Invocations per workgroup, and the values each sums before the tree reduction (more work per
 * invocation, fewer barrier rounds: 256 and 4 spent most of a LoRA step's norm time in barriers on
 * SwiftShader; on a GPU the pass reads the gradients once either way).
 */
const WG = 64;
const PER_INVOCATION = 16;
/** At most this many pass-1 workgroups (and partials); it depends only on N, so sums are reproducible. */
const MAX_GROUPS = 512;

/** Where each value sits in the stats tensor (4 × f32). */
export const STATS = { norm: 0, scale: 1, nonfinite: 2 } as const;

/** The (4) f32 stats tensor: [norm, clip scale, non-finite count, 0]. */
export function createGradStats(gpu: Gpu): Tensor {
  return createTensor(gpu, [4], 'f32', 'gradnorm:stats');
}

/**
 * stats = [‖grads‖₂ over finite values, min(1, maxNorm/(‖g‖+1e-6)), non-finite count, 0].
 * maxNorm <= 0 (or omitted) disables clipping: scale 1.
 */
export function gradNorm(rec: Recorder, stats: Tensor, grads: Tensor, opts: { maxNorm?: number } = {}): void {
  if (numel(stats.shape) !== 4) throw new Error(`gradNorm: stats [${stats.shape}] must hold 4 values`);
  const N = numel(grads.shape);
  const G = Math.max(1, Math.min(MAX_GROUPS, Math.ceil(N / (WG * PER_INVOCATION))));
  const partials = rec.gpu.scratch('gradnorm:partials', 2 * G);
  rec.dispatch({
    kernel: PARTIAL,
    overrides: { WG },
    outputs: [partials],
    inputs: [grads],
    params: params(N),
    workgroups: [G],
  });
  rec.dispatch({
    kernel: FINALIZE,
    overrides: { WG },
    outputs: [stats],
    inputs: [partials],
    params: params(G, { f32: opts.maxNorm ?? 0 }),
    workgroups: [1],
  });
}

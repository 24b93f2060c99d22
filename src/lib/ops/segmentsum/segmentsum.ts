// Per-row sums of the loss head's compacted per-token losses (and each row's count), and the backward
// that hands each row's gradient to its tokens. Sequence-level objectives (train/preference.ts) sit
// between the two: per-token losses → row sums → objective → row gradients → per-token dlosses,
// which crossentropyBackward consumes as it consumes the mean loss's.
import { grid1d, numel, params, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import forwardWgsl from './forward.wgsl?raw';
import backwardWgsl from './backward.wgsl?raw';

const FORWARD: Kernel = { name: 'segmentsum_forward', file: 'src/lib/ops/segmentsum/forward.wgsl', code: forwardWgsl };
const BACKWARD: Kernel = { name: 'segmentsum_backward', file: 'src/lib/ops/segmentsum/backward.wgsl', code: backwardWgsl };

function check(op: string, rows: Tensor, M: number, T: number): void {
  if (rows.dtype !== 'i32' || numel(rows.shape) !== M) throw new Error(`${op}: rows ${rows.dtype}[${rows.shape}] should be i32 with ${M} positions`);
  if (!Number.isInteger(T) || T < 1) throw new Error(`${op}: T must be a positive integer (got ${T})`);
}

/**
 * sums (R) and counts (R) of the compacted values losses (M) per row: entry j belongs to row
 * ⌊rows[j] / T⌋, rows (M) i32 ascending. Rows with no entry get 0 and 0.
 */
export function segmentSumForward(rec: Recorder, sums: Tensor, counts: Tensor, losses: Tensor, rows: Tensor, T: number): void {
  const M = numel(losses.shape);
  const R = numel(sums.shape);
  check('segmentSumForward', rows, M, T);
  if (numel(counts.shape) !== R) throw new Error(`segmentSumForward: counts [${counts.shape}] should hold ${R} rows`);
  rec.dispatch({
    kernel: FORWARD,
    overrides: { WG: 64 },
    outputs: [sums, counts],
    inputs: [losses, rows],
    params: params(M, R, T),
    workgroups: grid1d(R, 1),
  });
}

/** dlosses (M) = dsums (R) of each entry's row (overwrites). */
export function segmentSumBackward(rec: Recorder, dlosses: Tensor, dsums: Tensor, rows: Tensor, T: number): void {
  const M = numel(dlosses.shape);
  check('segmentSumBackward', rows, M, T);
  rec.dispatch({
    kernel: BACKWARD,
    overrides: { WG: 256 },
    outputs: [dlosses],
    inputs: [dsums, rows],
    params: params(M, T),
    workgroups: grid1d(M, 256),
  });
}

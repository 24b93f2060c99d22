// Preference losses over pairs of sequences (DPO sigmoid/ipo/robust, SimPO, ORPO): from the per-row
// sums of −log p (segmentsum), the rows' token counts and the reference's log-probs to the mean loss,
// TRL's metrics and the gradient with respect to the sums. Two dispatches and no readback:
//   preferenceForward(rec, stats, grad, sums, counts, reference, settings)   stats (10), grad (2P)
//   preferenceBackward(rec, dsums, grad, counts, stats, settings, dloss)      dsums (2P)
// reference.ts holds the formulas and the stats layout (STATS).
import { grid1d, numel, params, f32, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import { PREFERENCE_KINDS, STATS_SIZE, type PreferenceSettings } from './reference.ts';
import forwardWgsl from './forward.wgsl?raw';
import backwardWgsl from './backward.wgsl?raw';

export { PREFERENCE_KINDS, STATS as PREFERENCE_STATS, STATS_SIZE as PREFERENCE_STATS_SIZE, type PreferenceKind, type PreferenceSettings } from './reference.ts';

const FORWARD: Kernel = { name: 'preference_forward', file: 'src/lib/ops/preference/forward.wgsl', code: forwardWgsl };
const BACKWARD: Kernel = { name: 'preference_backward', file: 'src/lib/ops/preference/backward.wgsl', code: backwardWgsl };

/** Pairs in (2P) row tensors; throws unless every one holds 2P values. */
function pairsOf(op: string, ...ts: Tensor[]): number {
  const n = numel(ts[0].shape);
  if (n % 2 !== 0) throw new Error(`${op}: [${ts[0].shape}] should hold two rows (chosen, rejected) per pair`);
  for (const t of ts) if (numel(t.shape) !== n) throw new Error(`${op}: [${t.shape}] should hold ${n} rows`);
  return n / 2;
}

function checkStats(op: string, stats: Tensor): void {
  if (numel(stats.shape) !== STATS_SIZE) throw new Error(`${op}: stats [${stats.shape}] should hold ${STATS_SIZE} values`);
}

function kindIndex(s: PreferenceSettings): number {
  const i = PREFERENCE_KINDS.indexOf(s.kind);
  if (i < 0) throw new Error(`preference loss: unknown kind ${String(s.kind)}`);
  return i;
}

/**
 * stats (10) = the mean loss over the pairs that count and TRL's metrics (STATS); grad (2P) =
 * ∂(pair loss)/∂sums of each row, for preferenceBackward. sums (2P): Σ −log p per row; counts (2P):
 * its tokens; reference (2P): the reference's log π (read by DPO's kinds only).
 */
export function preferenceForward(
  rec: Recorder,
  stats: Tensor,
  grad: Tensor,
  sums: Tensor,
  counts: Tensor,
  reference: Tensor,
  s: PreferenceSettings,
): void {
  const P = pairsOf('preferenceForward', grad, sums, counts, reference);
  checkStats('preferenceForward', stats);
  rec.dispatch({
    kernel: FORWARD,
    overrides: { WG: 64 },
    outputs: [stats, grad],
    inputs: [sums, counts, reference],
    params: params(P, kindIndex(s), f32(s.beta), f32(s.gamma), f32(s.smoothing)),
    workgroups: [1],
  });
}

/** dsums (2P) = dloss · ∂(mean loss)/∂sums, from preferenceForward's grad and stats (overwrites). */
export function preferenceBackward(
  rec: Recorder,
  dsums: Tensor,
  grad: Tensor,
  counts: Tensor,
  stats: Tensor,
  s: PreferenceSettings,
  dloss = 1,
): void {
  const P = pairsOf('preferenceBackward', dsums, grad, counts);
  checkStats('preferenceBackward', stats);
  rec.dispatch({
    kernel: BACKWARD,
    overrides: { WG: 256 },
    outputs: [dsums],
    inputs: [grad, counts, stats],
    params: params(P, s.kind === 'orpo' ? 1 : 0, f32(dloss)),
    workgroups: grid1d(2 * P, 256),
  });
}

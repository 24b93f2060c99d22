// Softmax cross-entropy over the vocabulary with a per-token mask (targets = -100: no loss), fused:
// no (B,T,V) probability tensor is ever written.
//
// A training step's loss is four dispatches and one 4-byte readback:
//   crossentropyForward(rec, losses, lse, logits, targets)    losses, lse (B,T)
//   meanLossForward(rec, loss, losses, targets)               loss (2) = [mean, count]  <- read loss[0]
//   meanLossBackward(rec, dlosses, targets, loss)             dlosses (B,T) = 1/count on counted tokens
//   crossentropyBackward(rec, logits, targets, lse, dlosses)  logits (B,T,V) becomes dlogits IN PLACE
// Splitting the mean from the per-token loss keeps other objectives (DPO's per-sequence sums of
// log-probabilities) on the same kernels: they write their own dlosses.
import { grid1d, numel, params, f32, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import forwardWgsl from './forward.wgsl?raw';
import backwardWgsl from './backward.wgsl?raw';
import meanForwardWgsl from './mean_forward.wgsl?raw';
import meanBackwardWgsl from './mean_backward.wgsl?raw';

const WG = 256; // invocations per row (backward: no reduction) and for the one mean workgroup
// The forward's row reduction: 64 invocations (6 halving rounds, each a barrier) instead of 256 made
// it 7× faster on SwiftShader (barriers dominate on a CPU) and still reads each row coalesced.
const ROW_WG = 64;
const FORWARD: Kernel = { name: 'crossentropy_forward', file: 'src/lib/ops/crossentropy/forward.wgsl', code: forwardWgsl };
const BACKWARD: Kernel = { name: 'crossentropy_backward', file: 'src/lib/ops/crossentropy/backward.wgsl', code: backwardWgsl };
const MEAN_FORWARD: Kernel = {
  name: 'crossentropy_mean_forward',
  file: 'src/lib/ops/crossentropy/mean_forward.wgsl',
  code: meanForwardWgsl,
};
const MEAN_BACKWARD: Kernel = {
  name: 'crossentropy_mean_backward',
  file: 'src/lib/ops/crossentropy/mean_backward.wgsl',
  code: meanBackwardWgsl,
};

function checkTargets(op: string, targets: Tensor, N: number): void {
  if (targets.dtype !== 'i32' || numel(targets.shape) !== N) {
    throw new Error(`${op}: targets ${targets.dtype}[${targets.shape}] should be i32 with B*T=${N} values`);
  }
}

/** The (2) [mean, count] tensor of meanLossForward. */
function checkLoss(op: string, loss: Tensor): void {
  if (numel(loss.shape) !== 2) throw new Error(`${op}: loss [${loss.shape}] should hold 2 values (mean, count)`);
}

function checkRows(op: string, N: number, ...ts: Tensor[]): void {
  for (const t of ts) if (numel(t.shape) !== N) throw new Error(`${op}: [${t.shape}] should hold one value per row (${N})`);
}

/** Rows N = B*T and vocabulary V of logits (B,T,V). */
function rowsOf(logits: Tensor): { N: number; V: number } {
  const V = logits.shape[logits.shape.length - 1];
  return { N: numel(logits.shape) / V, V };
}

/**
 * losses (B,T) = -log softmax(logits (B,T,V))[targets (B,T) i32], 0 where the target is -100 (NaN for
 * any other target outside [0,V): a bug upstream); lse (B,T) keeps each row's logsumexp for the backward.
 */
export function crossentropyForward(rec: Recorder, losses: Tensor, lse: Tensor, logits: Tensor, targets: Tensor): void {
  const { N, V } = rowsOf(logits);
  checkTargets('crossentropyForward', targets, N);
  checkRows('crossentropyForward', N, losses, lse);
  rec.dispatch({
    kernel: FORWARD,
    overrides: { WG: ROW_WG },
    outputs: [losses, lse],
    inputs: [logits, targets],
    params: params(N, V),
    workgroups: grid1d(N, 1),
  });
}

/**
 * IN PLACE: logits (B,T,V) is overwritten with dlogits = (softmax - onehot(target))·dlosses[b,t], and
 * with 0 on rows whose target is -100 (llm.c does the same; it saves a (B,T,V) buffer). Keep a copy
 * first if the logits are still needed. lse comes from crossentropyForward on the same logits.
 */
export function crossentropyBackward(rec: Recorder, logits: Tensor, targets: Tensor, lse: Tensor, dlosses: Tensor): void {
  const { N, V } = rowsOf(logits);
  checkTargets('crossentropyBackward', targets, N);
  checkRows('crossentropyBackward', N, lse, dlosses);
  rec.dispatch({
    kernel: BACKWARD,
    overrides: { WG },
    outputs: [logits],
    inputs: [targets, lse, dlosses],
    params: params(N, V),
    workgroups: grid1d(N, 1),
  });
}

/**
 * loss (2) = [Σ losses / count, count] over tokens whose target is not -100 ([0, 0] if none):
 * reading back loss[0] (4 bytes) gives the step's mean loss. Deterministic (one workgroup).
 */
export function meanLossForward(rec: Recorder, loss: Tensor, losses: Tensor, targets: Tensor): void {
  const N = numel(losses.shape);
  checkTargets('meanLossForward', targets, N);
  checkLoss('meanLossForward', loss);
  rec.dispatch({
    kernel: MEAN_FORWARD,
    overrides: { WG },
    outputs: [loss],
    inputs: [losses, targets],
    params: params(N),
    workgroups: [1],
  });
}

/**
 * dlosses (B,T) = dloss / count on counted tokens, 0 elsewhere (overwrites); count is read on the GPU
 * from loss[1] of meanLossForward. dloss: gradient of the objective w.r.t. the mean loss (1 by default).
 */
export function meanLossBackward(rec: Recorder, dlosses: Tensor, targets: Tensor, loss: Tensor, dloss = 1): void {
  const N = numel(dlosses.shape);
  checkTargets('meanLossBackward', targets, N);
  checkLoss('meanLossBackward', loss);
  rec.dispatch({
    kernel: MEAN_BACKWARD,
    overrides: { WG },
    outputs: [dlosses],
    inputs: [targets, loss],
    params: params(N, f32(dloss)),
    workgroups: grid1d(N, WG),
  });
}

// The preference objectives on the GPU (train/objective.ts says what each computes): the loss head's
// per-token losses −log p of the counted (completion) positions are summed per row (ops/segmentsum),
// the pairs' loss and TRL's metrics come from those sums (ops/preference), and the gradient goes back
// the same way (the reward model's head, train/reward.ts, replaces the first two steps): per-row coefficients ∂L/∂(row sum), handed to every token of the row as its dloss,
// which the cross-entropy backward consumes as it consumes the mean loss's. Chosen and rejected rows
// sit in one batch (rows 2i, 2i+1), so a micro-batch is one forward, one backward, no readback.
//
//   encodePreferenceLoss   a micro-batch's loss head, in a training step or an evaluation
//   evaluatePreference     the loss and metrics over evaluation batches (one readback per chunk)
//   sequenceLogps          Σ log p of each row's counted tokens: the reference log-probs a DPO run
//                          computes once, with the weights it starts from (no per-token readback)

import { createTensor, numel, Readback, Recorder, view, type Tensor } from '../gpu/index.ts';
import type { Batch } from '../data/batches.ts';
import type { Activations } from '../model/activations.ts';
import type { Model } from '../model/model.ts';
import type { HeadInputs } from '../model/transformer.ts';
import { PREFERENCE_STATS as STATS, PREFERENCE_STATS_SIZE, preferenceBackward, preferenceForward, type PreferenceSettings } from '../ops/preference/preference.ts';
import { segmentSumBackward, segmentSumForward } from '../ops/segmentsum/segmentsum.ts';
import { IGNORE_INDEX } from '../ops/crossentropy/reference.ts';
import { needsReference, PREFERENCE_METRICS, type ObjectiveConfig, type PreferenceMetrics } from './objective.ts';
import { encodeRewardLoss, rewardSettings, scoreRows } from './reward.ts';

export { PREFERENCE_STATS_SIZE };

/** The preference op's settings for a preference objective. */
export function preferenceSettings(o: ObjectiveConfig): PreferenceSettings {
  switch (o.type) {
    case 'dpo':
      return { kind: o.loss_type, beta: o.beta, gamma: 0, smoothing: o.loss_type === 'robust' ? o.label_smoothing : 0 };
    case 'simpo':
      return { kind: 'simpo', beta: o.beta, gamma: o.simpo_gamma, smoothing: 0 };
    case 'orpo':
      return { kind: 'orpo', beta: o.beta, gamma: 0, smoothing: 0 };
    case 'reward':
      return rewardSettings(o);
    case 'sft':
      throw new Error('supervised fine-tuning is not a preference objective');
  }
}

/** Checks that a batch can go through a preference loss: whole pairs, and reference log-probs when DPO needs them. */
export function checkPreferenceBatch(b: Batch, o: ObjectiveConfig): void {
  if (b.B % 2 !== 0) throw new Error(`a preference batch holds pairs of rows (chosen, rejected); ${b.B} rows is not a whole number of pairs`);
  if (needsReference(o) && !b.reference) throw new Error('DPO needs each row\'s reference log-probability: compute them once with sequenceLogps');
}

/**
 * The loss head of one micro-batch under a preference objective, after the forward: acts.loss gets
 * the mean cross-entropy and count (as for SFT), acts.prefStats the preference loss and metrics
 * (ops/preference STATS), and with `backward`, grads.dn the gradient of dloss·loss.
 */
export function encodePreferenceLoss(
  rec: Recorder,
  model: Model,
  acts: Activations,
  inp: { head: HeadInputs; reference: Tensor },
  objective: ObjectiveConfig,
  opts: { backward: boolean; dloss?: number },
): void {
  if (objective.type === 'reward') {
    encodeRewardLoss(rec, model, acts, inp, objective, opts);
    return;
  }
  const s = preferenceSettings(objective);
  const T = acts.T;
  model.transformer.loss(rec, acts, inp.head, {
    backward: opts.backward,
    sequence: (rec, losses, dlosses) => {
      if (!losses) {
        rec.clear(acts.prefStats);
        return;
      }
      const rows = view(inp.head.rows, [numel(losses.shape)]);
      segmentSumForward(rec, acts.rowLoss, acts.rowCount, losses, rows, T);
      preferenceForward(rec, acts.prefStats, acts.prefGrad, acts.rowLoss, acts.rowCount, inp.reference, s);
      if (!dlosses) return;
      preferenceBackward(rec, acts.drowLoss!, acts.prefGrad, acts.rowCount, acts.prefStats, s, opts.dloss ?? 1);
      segmentSumBackward(rec, dlosses, acts.drowLoss!, rows, T);
    },
  });
}

/** The metrics of a preference stats vector (ops/preference STATS) by TRL's names. */
export function metricsOf(stats: ArrayLike<number>, offset = 0): PreferenceMetrics {
  const at = (i: number) => stats[offset + i];
  return {
    'rewards/chosen': at(STATS.rewardsChosen),
    'rewards/rejected': at(STATS.rewardsRejected),
    'rewards/margins': at(STATS.margins),
    'rewards/accuracies': at(STATS.accuracies),
    'logps/chosen': at(STATS.logpsChosen),
    'logps/rejected': at(STATS.logpsRejected),
    nll_loss: at(STATS.nll),
  };
}

/** Loss and metrics of several stats vectors, each weighted by its pairs (micro-batches, evaluation batches). */
export function combineStats(all: { stats: ArrayLike<number>; offset?: number }[]): { loss: number; pairs: number; metrics: PreferenceMetrics } {
  let pairs = 0;
  let loss = 0;
  const sums = Object.fromEntries(PREFERENCE_METRICS.map((k) => [k, 0])) as PreferenceMetrics;
  for (const { stats, offset = 0 } of all) {
    const n = stats[offset + STATS.pairs];
    if (!(n > 0)) continue;
    pairs += n;
    loss += stats[offset + STATS.loss] * n;
    const m = metricsOf(stats, offset);
    for (const k of PREFERENCE_METRICS) sums[k] += m[k] * n;
  }
  const metrics = Object.fromEntries(PREFERENCE_METRICS.map((k) => [k, pairs ? sums[k] / pairs : NaN])) as PreferenceMetrics;
  return { loss: pairs ? loss / pairs : NaN, pairs, metrics };
}

/** Batches per command buffer of the forward-only passes below (each has its own input tensors). */
const CHUNK = 16;

/**
 * Runs `each` after the forward of every batch (forward-only activations), up to CHUNK batches per
 * command buffer, and reads back `width` floats per batch that `each` copied into out[i·width..].
 */
async function forwardPasses(
  model: Model,
  batches: Batch[],
  width: number,
  each: (rec: Recorder, acts: Activations, inp: ReturnType<Model['writeInputs']>, out: Tensor) => void,
): Promise<Float32Array[]> {
  const results: Float32Array[] = [];
  const readback = new Readback(model.gpu, 'forward passes');
  let out: Tensor | null = null;
  try {
    for (let start = 0; start < batches.length; start += CHUNK) {
      const chunk = batches.slice(start, start + CHUNK);
      const { B, T } = chunk[0];
      for (const b of chunk) if (b.B !== B || b.T !== T) throw new Error('every batch of a pass must have the same (B,T)');
      const acts = model.activations(B, T, false);
      const inputs = model.inputTensors(B, T, chunk.length);
      if (!out || numel(out.shape) < chunk.length * width) {
        out?.buffer.destroy();
        out = createTensor(model.gpu, [CHUNK * width], 'f32', 'forward pass results');
      }
      const rec = new Recorder(model.gpu, 'forward passes');
      chunk.forEach((b, i) => {
        const inp = model.writeInputs(inputs[i], b.ids, b.targets, b.positions, b.reference);
        model.transformer.forward(rec, acts, inp);
        each(rec, acts, inp, view(out!, [width], i * width));
      });
      readback.copy(rec, [view(out, [chunk.length * width])]);
      rec.submit();
      const [r] = await readback.read();
      for (let i = 0; i < chunk.length; i++) results.push((r as Float32Array).slice(i * width, (i + 1) * width));
    }
    return results;
  } finally {
    out?.buffer.destroy();
    readback.destroy();
  }
}

/**
 * Σ log p over each row's counted tokens with whatever the model has attached (0 for a row with
 * none), B per batch in batch order. A forward and the loss head only; one small readback per
 * CHUNK batches.
 */
export async function sequenceLogps(model: Model, batches: Batch[]): Promise<Float32Array> {
  if (batches.length === 0) return new Float32Array(0);
  const B = batches[0].B;
  const sums = await forwardPasses(model, batches, B, (rec, acts, inp, out) => {
    model.transformer.loss(rec, acts, inp.head, {
      backward: false,
      sequence: (rec, losses) => {
        if (!losses) rec.clear(acts.rowLoss);
        else segmentSumForward(rec, acts.rowLoss, acts.rowCount, losses, view(inp.head.rows, [numel(losses.shape)]), acts.T);
      },
    });
    rec.copy(acts.rowLoss, out);
  });
  // log π = −Σ(−log p): negation is exact, so a policy equal to the reference gives Δ = 0 exactly
  const out = new Float32Array(batches.length * B);
  sums.forEach((s, i) => out.set(s.map((x) => (x === 0 ? 0 : -x)), i * B));
  return out;
}

/** The reward model's reward of every row of `batches` (train/reward.ts), B per batch in order. */
export function sequenceRewards(model: Model, batches: Batch[]): Promise<Float32Array> {
  return scoreRows(model, batches, forwardPasses);
}

/**
 * The preference loss and TRL's metrics over evaluation batches (means over their pairs; padding
 * pairs count nothing), and the tokens counted. No gradients.
 */
export async function evaluatePreference(
  model: Model,
  batches: Batch[],
  objective: ObjectiveConfig,
): Promise<{ loss: number; tokens: number; pairs: number; metrics: PreferenceMetrics }> {
  for (const b of batches) checkPreferenceBatch(b, objective);
  const W = 2 + PREFERENCE_STATS_SIZE;
  const stats = await forwardPasses(model, batches, W, (rec, acts, inp, out) => {
    encodePreferenceLoss(rec, model, acts, inp, objective, { backward: false });
    rec.copy(acts.loss, view(out, [2]));
    rec.copy(acts.prefStats, view(out, [PREFERENCE_STATS_SIZE], 2));
  });
  let tokens = 0;
  for (const b of batches) for (const t of b.targets) if (t !== IGNORE_INDEX) tokens++;
  const c = combineStats(stats.map((s) => ({ stats: s, offset: 2 })));
  return { loss: c.loss, tokens, pairs: c.pairs, metrics: c.metrics };
}

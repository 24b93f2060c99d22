// The reward model on the GPU (train/objective.ts 'reward'): the score head (ops/score) reads each
// row's last token's final hidden state, the pairwise loss −log σ(r⁺ − r⁻ − m) and TRL's metrics come
// from the rows' rewards (ops/preference, kind 'reward'), and the gradient goes back the same way:
// ∂L/∂r per row → the last token's hidden state (grads.dn, where the transformer's backward starts)
// and score.weight. No language-model head runs: a reward model has no per-token loss.
//
//   encodeRewardLoss   a micro-batch's loss head, in a training step or an evaluation
//   scoreRows          the reward of every row of some batches (the score box, RAFT's reward model)

import { numel, reshape, view, type Recorder, type Tensor } from '../gpu/index.ts';
import type { Batch } from '../data/batches.ts';
import type { Activations } from '../model/activations.ts';
import type { Model } from '../model/model.ts';
import type { HeadInputs } from '../model/transformer.ts';
import { preferenceBackward, preferenceForward, type PreferenceSettings } from '../ops/preference/preference.ts';
import { scoreBackward, scoreForward } from '../ops/score/score.ts';
import type { ObjectiveConfig } from './objective.ts';

/** The model's score head, or a message saying a reward model needs one. */
function headOf(model: Model): NonNullable<Model['transformer']['binding']['score']> {
  const head = model.transformer.binding.score;
  if (!head) throw new Error('a reward model needs a score head: attach the method with modules_to_save ["score"] (withScoreHead)');
  return head;
}

/** The preference op's settings for the reward model's loss. */
export function rewardSettings(o: Extract<ObjectiveConfig, { type: 'reward' }>): PreferenceSettings {
  return { kind: 'reward', beta: 1, gamma: o.margin, smoothing: 0 };
}

/**
 * After the forward: acts.rowLoss gets each row's reward, acts.prefStats the loss and metrics; with
 * `backward`, grads.dn and score's gradient get dloss·∂loss/∂(hidden states, weight). acts.loss is
 * cleared (no cross-entropy is computed; its count of 0 says so).
 */
export function encodeRewardLoss(
  rec: Recorder,
  model: Model,
  acts: Activations,
  inp: { head: HeadInputs; reference: Tensor },
  objective: Extract<ObjectiveConfig, { type: 'reward' }>,
  opts: { backward: boolean; dloss?: number },
): void {
  const head = headOf(model);
  const s = rewardSettings(objective);
  const C = model.cfg.hidden;
  const nf = reshape(acts.nf, [acts.B * acts.T, C]);
  const w = view(head.weight, [C]);
  rec.clear(acts.loss);
  scoreForward(rec, acts.rowLoss, acts.rowCount, nf, w, inp.head.last);
  // the reference input is not read by the reward kind; any (B) tensor binds
  preferenceForward(rec, acts.prefStats, acts.prefGrad, acts.rowLoss, acts.rowCount, inp.reference, s);
  if (!opts.backward) return;
  const g = acts.grads;
  if (!g || !acts.drowLoss || !head.dweight) throw new Error('reward loss: these activations or weights were made without gradients');
  rec.clear(g.dn);
  preferenceBackward(rec, acts.drowLoss, acts.prefGrad, acts.rowCount, acts.prefStats, s, opts.dloss ?? 1);
  scoreBackward(rec, reshape(g.dn, [acts.B * acts.T, C]), view(head.dweight, [C]), acts.drowLoss, nf, w, inp.head.last);
}

/**
 * The reward of every row of `batches` (B per batch, in order; 0 for a row with no counted token):
 * a forward, the head, one small readback per chunk of batches.
 */
export async function scoreRows(
  model: Model,
  batches: Batch[],
  forwardPasses: (
    model: Model,
    batches: Batch[],
    width: number,
    each: (rec: Recorder, acts: Activations, inp: ReturnType<Model['writeInputs']>, out: Tensor) => void,
  ) => Promise<Float32Array[]>,
): Promise<Float32Array> {
  if (batches.length === 0) return new Float32Array(0);
  const head = headOf(model);
  const C = model.cfg.hidden;
  const B = batches[0].B;
  const rows = await forwardPasses(model, batches, B, (rec, acts, inp, out) => {
    scoreForward(rec, out, acts.rowCount, reshape(acts.nf, [numel(acts.nf.shape) / C, C]), view(head.weight, [C]), inp.head.last);
  });
  const out = new Float32Array(batches.length * B);
  rows.forEach((r, i) => out.set(r, i * B));
  return out;
}

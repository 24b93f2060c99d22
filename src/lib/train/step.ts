// One training step, read top to bottom (llm.c's train loop body):
//
//   zero the gradients
//   for each micro-batch:  forward → loss (and its gradient, scaled 1/accumulation) → backward
//   global gradient norm, clip scale, NaN/Inf count → AdamW (skipped on NaN/Inf)
//   copy each micro-batch's loss and the gradient stats into one small tensor
//
// all in ONE command buffer (which also copies the losses and stats into a mappable buffer), then
// one map of W·accumulation + 4 floats (W = 2; 12 with a preference objective's metrics). Nothing
// else comes back to the CPU during training. The loss is the run's objective: masked cross-entropy
// (SFT), or a preference loss over the batch's pairs (train/preference.ts).
import { createTensor, Readback, Recorder, view, type Tensor } from '../gpu/index.ts';
import type { Model } from '../model/model.ts';
import type { Batch } from '../data/batches.ts';
import type { TrainConfig } from './config.ts';
import { AdamW } from './optimizer.ts';
import { STATS } from '../ops/gradnorm/gradnorm.ts';
import { isPreference, SFT, type ObjectiveConfig, type PreferenceMetrics } from './objective.ts';
import { checkPreferenceBatch, combineStats, encodePreferenceLoss, PREFERENCE_STATS_SIZE } from './preference.ts';

export interface StepResult {
  /** mean over micro-batches of each one's mean masked loss */
  loss: number;
  /** each micro-batch's mean loss */
  losses: number[];
  /** global gradient norm before clipping */
  gradNorm: number;
  /** true when a NaN/Inf loss or gradient was seen: the update was skipped */
  nonfinite: boolean;
  /** tokens whose loss counted, over all micro-batches */
  tokens: number;
  /** a preference objective's metrics (TRL's names), over the step's pairs */
  metrics?: PreferenceMetrics;
}

/** Floats each micro-batch copies into the step's readout: [mean cross-entropy, count] (+ the preference stats). */
export function readoutWidth(objective: ObjectiveConfig): number {
  return isPreference(objective) ? 2 + PREFERENCE_STATS_SIZE : 2;
}

/**
 * Gradients of the mean loss over `batches` (each scaled 1/n, as gradient accumulation does) added
 * into the attached method's gradient store after zeroing it. Micro-batch i's [mean cross-entropy,
 * count] is copied to lossOut[W·i, W·i+1] and, with a preference objective, its stats (ops/preference
 * STATS) after them (W = readoutWidth).
 */
export function encodeGradients(
  rec: Recorder,
  model: Model,
  batches: Batch[],
  lossOut: Tensor,
  opts: { dropoutSeed?: number; objective?: ObjectiveConfig } = {},
): void {
  const objective = opts.objective ?? SFT;
  const W = readoutWidth(objective);
  if (isPreference(objective)) for (const b of batches) checkPreferenceBatch(b, objective);
  const attached = model.attached;
  if (!attached) throw new Error('training needs an attached method (LoRA, bottleneck, prefix or full)');
  for (const b of attached.grads.buffers) rec.clear({ buffer: b, offset: 0, shape: [b.size / 4], dtype: 'f32' });
  const { B, T } = batches[0];
  for (const b of batches) if (b.B !== B || b.T !== T) throw new Error('every micro-batch of a step must have the same (B,T)');
  const acts = model.activations(B, T, true);
  const inputs = model.inputTensors(B, T, batches.length);
  batches.forEach((batch, i) => {
    const written = model.writeInputs(inputs[i], batch.ids, batch.targets, batch.positions, batch.reference);
    // Each micro-batch draws its own dropout masks (the forward and its backward share them).
    const inp = opts.dropoutSeed === undefined ? written : { ...written, dropoutSeed: (opts.dropoutSeed + i * 7919) >>> 0 };
    model.transformer.forward(rec, acts, inp);
    const dloss = 1 / batches.length;
    if (isPreference(objective)) encodePreferenceLoss(rec, model, acts, written, objective, { backward: true, dloss });
    else model.transformer.loss(rec, acts, written.head, { backward: true, dloss });
    model.transformer.backward(rec, acts, inp);
    rec.copy(acts.loss, view(lossOut, [2], W * i));
    if (isPreference(objective)) rec.copy(acts.prefStats, view(lossOut, [PREFERENCE_STATS_SIZE], W * i + 2));
  });
}

export class Trainer {
  readonly optimizer: AdamW;
  private readout: Tensor | null = null;
  private readonly readback: Readback;

  constructor(
    readonly model: Model,
    public cfg: TrainConfig,
    /** what the run minimises: SFT's cross-entropy, or a preference loss over pairs */
    readonly objective: ObjectiveConfig = SFT,
  ) {
    if (!model.attached) throw new Error('Trainer: attach a method to the model first');
    model.unmergeLora(); // merged weights are a snapshot of the adapter; training needs the branch
    this.optimizer = new AdamW(model.attached);
    this.readback = new Readback(model.gpu, 'step readback');
  }

  /** optimizer steps taken */
  get step(): number {
    return this.optimizer.t;
  }

  /** One optimizer step over `batches` (gradient accumulation over all of them) at learning rate lr. */
  async trainStep(batches: Batch[], lr: number): Promise<StepResult> {
    const { model } = this;
    if (model.merged) throw new Error('trainStep: the LoRA adapter is merged; unmergeLora() first');
    if (model.attached !== this.optimizer.attached) throw new Error('trainStep: the model has another method attached now');
    const n = batches.length;
    const W = readoutWidth(this.objective);
    const rec = new Recorder(model.gpu, `train step ${this.optimizer.t + 1}`);
    // One readback: W floats per micro-batch, then the 4 gradient stats.
    const out = this.readoutTensor(W * n + 4);
    const dropoutSeed = (Math.imul(this.cfg.seed, 1000003) + Math.imul(this.optimizer.t + 1, 104729)) >>> 0;
    encodeGradients(rec, model, batches, out, { dropoutSeed, objective: this.objective });
    this.optimizer.encode(rec, this.cfg, lr);
    rec.copy(this.optimizer.stats, view(out, [4], W * n));
    // ...copied into a mappable buffer by the same command buffer: one submit per step.
    this.readback.copy(rec, [view(out, [W * n + 4])]);
    rec.submit();
    model.transformer.releaseTransient();
    const [r] = await this.readback.read();
    const pref = isPreference(this.objective) ? combineStats(batches.map((_, i) => ({ stats: r, offset: W * i + 2 }))) : null;
    const perBatch = Array.from({ length: n }, (_, i) => (pref ? r[W * i + 2] : r[W * i]));
    const loss = perBatch.reduce((a, b) => a + b, 0) / n;
    const nonfinite = !Number.isFinite(loss) || r[W * n + STATS.nonfinite] > 0;
    if (!nonfinite) this.optimizer.t++;
    return {
      loss,
      losses: perBatch,
      gradNorm: r[W * n + STATS.norm],
      nonfinite,
      tokens: Array.from({ length: n }, (_, i) => r[W * i + 1]).reduce((a, b) => a + b, 0),
      ...(pref ? { metrics: pref.metrics } : {}),
    };
  }

  private readoutTensor(n: number): Tensor {
    if (!this.readout || this.readout.shape[0] < n) {
      this.readout?.buffer.destroy();
      this.readout = createTensor(this.model.gpu, [Math.max(n, 64)], 'f32', 'step readout');
    }
    return this.readout;
  }

  destroy(): void {
    this.optimizer.destroy();
    this.readout?.buffer.destroy();
    this.readback.destroy();
  }
}

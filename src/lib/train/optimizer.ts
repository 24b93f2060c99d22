// AdamW over the one trainable store: the two moments live in stores of the same layout, so the
// update is one dispatch per buffer (one buffer for every adapter). The global gradient norm, its
// clip scale and a NaN/Inf count are computed on the GPU first; AdamW reads them there and skips a
// step whose gradients are not finite.
import type { Recorder, Tensor } from '../gpu/index.ts';
import { adamwStep } from '../ops/adamw/adamw.ts';
import { createGradStats, gradNorm } from '../ops/gradnorm/gradnorm.ts';
import type { Attached } from '../model/model.ts';
import { ParamStore } from '../model/store.ts';
import type { TrainConfig } from './config.ts';

export class AdamW {
  readonly m: ParamStore;
  readonly v: ParamStore;
  /** [‖g‖, clip scale, non-finite count, 0] of the last step (on the GPU) */
  readonly stats: Tensor;
  /** optimizer steps taken (AdamW's t, for bias correction) */
  t = 0;

  constructor(readonly attached: Attached) {
    const { params } = attached;
    if (params.buffers.length !== 1) {
      throw new Error(
        `AdamW: the trainable parameters need ${params.buffers.length} buffers; they must fit one storage binding ` +
          `(${params.layout.bufferSizes[0] * 4} bytes per buffer)`,
      );
    }
    this.m = new ParamStore(params.gpu, params.layout, 'adam.m');
    this.v = new ParamStore(params.gpu, params.layout, 'adam.v');
    this.stats = createGradStats(params.gpu);
  }

  private flat(store: ParamStore): Tensor {
    return { buffer: store.buffers[0], offset: 0, shape: [store.layout.bufferSizes[0]], dtype: 'f32', label: store.label };
  }

  /** Encodes the gradient statistics and the update with learning rate `lr` as step t+1. */
  encode(rec: Recorder, cfg: TrainConfig, lr: number): void {
    const { params, grads } = this.attached;
    gradNorm(rec, this.stats, this.flat(grads), { maxNorm: cfg.max_grad_norm });
    adamwStep(rec, this.flat(params), this.flat(this.m), this.flat(this.v), this.flat(grads), {
      lr,
      t: this.t + 1,
      beta1: cfg.adam_beta1,
      beta2: cfg.adam_beta2,
      eps: cfg.adam_epsilon,
      weightDecay: cfg.weight_decay,
      stats: this.stats,
    });
  }

  destroy(): void {
    this.m.destroy();
    this.v.destroy();
    this.stats.buffer.destroy();
  }
}

// Every training default in one place, one comment each (nanoGPT's train.py). The UI starts from
// these and overrides what the user changes; the engine reads nothing from anywhere else.
// A TrainConfig is also a learning-rate Schedule (schedule.ts: learningRateAt(cfg, step)).

export interface TrainConfig {
  /** sequences per micro-batch (B) */
  batchSize: number;
  /** tokens per sequence (T); packed examples fill it, the rest is masked with target -100 */
  seqLen: number;
  /** micro-batches whose gradients add up before one optimizer step */
  gradAccumSteps: number;
  /** optimizer steps to run */
  maxSteps: number;
  /** peak learning rate (LoRA and adapters train well at 1e-4..1e-3 on real models; tiny ones take more) */
  learningRate: number;
  /** the schedule decays to this */
  minLearningRate: number;
  /** steps of linear warmup from 0 */
  warmupSteps: number;
  /** shape of the decay after warmup */
  schedule: 'cosine' | 'linear' | 'constant';
  /** AdamW β1 */
  beta1: number;
  /** AdamW β2 */
  beta2: number;
  /** AdamW ε */
  eps: number;
  /** decoupled weight decay (PEFT/Trainer default 0 for adapters) */
  weightDecay: number;
  /** clip the global gradient norm to this (0 = no clipping) */
  gradClip: number;
  /** seeds adapter initialisation and dropout */
  seed: number;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  batchSize: 8,
  seqLen: 128,
  gradAccumSteps: 1,
  maxSteps: 100,
  learningRate: 2e-4,
  minLearningRate: 2e-5,
  warmupSteps: 10,
  schedule: 'cosine',
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  gradClip: 1.0,
  seed: 0,
};

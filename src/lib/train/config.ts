// The one training config, and every default of a run in one object (nanoGPT's train.py), each with
// its reason. Fields carry the names of Hugging Face's TrainingArguments / TRL's SFTConfig, so the
// settings a user picks here mean what they mean there (and a run can be handed to TRL as is).

import type { BottleneckConfig, FullConfig, LoraConfig, MethodConfig, MethodType, PrefixTuningConfig } from '../adapters/config.ts';
import type { ObjectiveConfig, ObjectiveType } from './objective.ts';

export interface TrainConfig {
  /** peak learning rate of AdamW, reached at the end of warm-up */
  learning_rate: number;
  /** how the learning rate falls after warm-up, down to learning_rate·min_lr_rate at the last step */
  lr_scheduler_type: 'cosine' | 'linear' | 'constant';
  /** where the decay ends, as a fraction of learning_rate (Transformers' cosine_with_min_lr kwarg) */
  min_lr_rate: number;
  /** steps of linear warm-up: step s < warmup_steps runs at learning_rate·(s+1)/warmup_steps */
  warmup_steps: number;
  /** passes over the training rows, used when max_steps is -1 */
  num_train_epochs: number;
  /** optimizer steps to run; -1 to run num_train_epochs epochs instead (as Transformers does) */
  max_steps: number;
  /** B: rows per micro-batch */
  per_device_train_batch_size: number;
  /** micro-batches whose gradients are averaged into one optimizer step */
  gradient_accumulation_steps: number;
  /** T: positions per row; longer examples are truncated, shorter ones padded */
  max_length: number;
  /** AdamW's decoupled weight decay */
  weight_decay: number;
  adam_beta1: number;
  adam_beta2: number;
  adam_epsilon: number;
  /** clip the global gradient norm to this; 0 turns clipping off */
  max_grad_norm: number;
  /** evaluate the validation loss every this many optimizer steps (and after the last one) */
  eval_steps: number;
  /**
   * stop when the validation loss has not improved on its lowest for this many evaluations in a row;
   * 0 never stops early (Transformers' EarlyStoppingCallback early_stopping_patience, threshold 0)
   */
  early_stopping_patience: number;
  /** seeds the method's initial weights, LoRA dropout and the order of the training batches */
  seed: number;
}

/**
 * Every default, chosen for the shipped 4M-parameter model and datasets of a few dozen examples: big
 * enough steps that a few hundred of them change the output visibly, small enough to stay stable.
 */
export const DEFAULTS = {
  methods: {
    LORA: {
      peft_type: 'LORA',
      r: 8, // PEFT's default; a few dozen examples need no more
      lora_alpha: 16, // scaling alpha/r = 2, the common 2·r rule
      lora_dropout: 0, // PEFT's default; a few hundred steps on a few dozen rows rarely overfit first
      target_modules: 'all-linear', // every projection (lm_head excluded), as QLoRA recommends
      use_rslora: false, // plain alpha/r scaling, as PEFT
      layers_to_transform: null, // every layer
    } satisfies LoraConfig,
    BOTTLENECK: {
      peft_type: 'BOTTLENECK',
      bottleneck_size: 16, // C/16 for the default model (C = 256)
      non_linearity: 'relu', // Houlsby's adapters use a plain nonlinearity; ReLU is the fixtures' choice
      placement: ['self_attn', 'mlp'], // Houlsby's placement: after both sublayers
    } satisfies BottleneckConfig,
    PREFIX_TUNING: {
      peft_type: 'PREFIX_TUNING',
      num_virtual_tokens: 8, // each costs L·2·NKV·HS parameters (2,048 on the default model)
    } satisfies PrefixTuningConfig,
    FULL: { peft_type: 'FULL' } satisfies FullConfig,
  },
  /**
   * Peak learning rate per method. LoRA and adapters start as the identity (B = 0, up = 0) and move
   * from there; prefix keys/values start as N(0,1) and need bigger steps to matter; full fine-tuning
   * moves every pretrained weight, so it takes small steps (the recipe pretrained at 3e-3).
   */
  learningRate: { LORA: 2e-3, BOTTLENECK: 2e-3, PREFIX_TUNING: 1e-2, FULL: 3e-4 } satisfies Record<MethodType, number>,
  /** Each objective's settings (train/objective.ts says what each one trades). */
  objectives: {
    sft: { type: 'sft' },
    dpo: {
      type: 'dpo',
      beta: 0.1, // DPOConfig's default and the DPO paper's: rewards of a few nats already separate pairs
      loss_type: 'sigmoid', // the DPO paper's loss, TRL's default
      label_smoothing: 0, // DPOConfig's default: labels are trusted (robust DPO's paper suggests 0.1 for noisy ones)
    },
    simpo: {
      type: 'simpo',
      beta: 2, // the SimPO paper's range is 2–2.5: a per-token reward is ~1/length of DPO's sum, so β is larger
      simpo_gamma: 0.5, // CPOConfig's default margin (the paper's γ/β ratio of about 0.25 at β = 2)
    },
    orpo: {
      type: 'orpo',
      beta: 0.1, // ORPOConfig's default λ, the ORPO paper's setting for its 7B models
    },
    reward: {
      type: 'reward',
      margin: 0, // RewardTrainer's loss when the data has no margin column
    },
  } satisfies { [K in ObjectiveType]: Extract<ObjectiveConfig, { type: K }> },
  training: {
    learning_rate: 2e-3, // LoRA's rate (learningRate above): the method the page opens with
    lr_scheduler_type: 'cosine', // nanoGPT's schedule
    min_lr_rate: 0.1, // nanoGPT decays to a tenth of the peak
    warmup_steps: 10, // a few steps for AdamW's moments to settle before full-size updates
    num_train_epochs: 20, // used when the user switches to epochs
    max_steps: 200, // ~50 epochs of a 32-example set at B=8: enough to see the style change
    per_device_train_batch_size: 8, // 8 rows of 128 positions fit any WebGPU device easily
    gradient_accumulation_steps: 1, // tiny datasets need no bigger effective batch
    max_length: 128, // every built-in sample fits; the default model was trained at up to 512
    weight_decay: 0, // adapters are small and start at the identity; decay only pulls them back to it
    adam_beta1: 0.9, // AdamW's usual moments (Transformers' defaults)
    adam_beta2: 0.999,
    adam_epsilon: 1e-8,
    max_grad_norm: 1, // as nanoGPT, llm.c and Transformers
    eval_steps: 20, // ten validation points over the default 200 steps
    early_stopping_patience: 0, // off: every run keeps its best checkpoint anyway, so stopping early only saves time
    seed: 0, // a fixed seed: the same settings give the same adapter
  } satisfies TrainConfig,
  /**
   * Pretraining a new model (full fine-tuning of a fresh initialisation, pretrain/create.ts): the
   * settings that differ from fine-tuning's.
   */
  pretraining: {
    learning_rate: 3e-3, // the recipe's peak for brown-llama-4m: fresh weights need far bigger steps than a tuned model's
    warmup_steps: 20, // a fresh init's first gradients are large; a short ramp keeps AdamW's first steps sane
    max_steps: 1000, // the recipe's run length; a tiny preset shows language well before that
    per_device_train_batch_size: 16, // the recipe's batch
    max_length: 128, // every preset's context holds it; short rows keep steps fast in a browser
    eval_steps: 50, // twenty validation points over the default run
    weight_decay: 0, // the engine's AdamW decays every trainable tensor alike (one dispatch), norms included; the recipe decays matrices only, so none is the closer choice
    sample_every: 50, // a sample each validation: the user watches language appear
  },
} as const;

/** The default settings of a method (a fresh copy the caller may edit). */
export function defaultMethod<T extends MethodType>(type: T): Extract<MethodConfig, { peft_type: T }> {
  return structuredClone(DEFAULTS.methods[type]) as unknown as Extract<MethodConfig, { peft_type: T }>;
}

/** The default settings of an objective (a fresh copy the caller may edit). */
export function defaultObjective<T extends ObjectiveType>(type: T): Extract<ObjectiveConfig, { type: T }> {
  return structuredClone(DEFAULTS.objectives[type]) as unknown as Extract<ObjectiveConfig, { type: T }>;
}

/** The default training config for a method (its learning rate; the rest is shared). */
export function defaultTrainConfig(type: MethodType = 'LORA'): TrainConfig {
  return { ...DEFAULTS.training, learning_rate: DEFAULTS.learningRate[type] };
}

/** Optimizer steps in one pass over `rows` training rows (the last batch is topped up, see data/batches.ts). */
export function stepsPerEpoch(rows: number, config: Pick<TrainConfig, 'per_device_train_batch_size' | 'gradient_accumulation_steps'>): number {
  const perStep = config.per_device_train_batch_size * config.gradient_accumulation_steps;
  return rows > 0 && perStep > 0 ? Math.ceil(rows / perStep) : 0;
}

/** The optimizer steps a run takes: max_steps, or num_train_epochs epochs when max_steps is -1. */
export function totalSteps(config: TrainConfig, trainRows: number): number {
  return config.max_steps > 0 ? config.max_steps : config.num_train_epochs * stepsPerEpoch(trainRows, config);
}

// The engine's requests and events (training, evaluation, comparison, the parity check), as protocol.ts
// lists them: payload and result types here, one entry each in protocol.ts's `Requests` and
// `EventPayloads`, handlers in engine-handlers.ts.

import type { ModelSpec } from '../base/catalog.ts';
import type { GenerationResult, StreamedToken } from '../base/runtime.ts';
import type { SamplingOptions } from '../generate/sampling.ts';
import type { PackedRows } from '../data/pack.ts';
import type { BaseModelShape } from '../peft/base.ts';
import type { TrainingPlan } from '../train-plan.ts';

// ─── engineLoad ──────────────────────────────────────────────────────────────────────────────────

export interface EngineLoadRequest {
  model: ModelSpec;
  /** Absolute URL of the app's models/ folder. */
  localModels: string;
  /** Host serving the Hub's URL layout; Hugging Face when absent. */
  hubHost?: string;
  /** Backend of the onnxruntime-web reference the engine is compared against ('auto' picks as the page does). */
  referenceBackend: 'auto' | 'webgpu' | 'wasm';
}

export interface EngineInfo {
  /** Model id (what adapter_config.json's base_model_name_or_path says). */
  model: string;
  /** The WebGPU adapter the engine runs on, in words. */
  gpu: string;
  /** What an adapter for this base must fit (import validation uses it). */
  baseShape: BaseModelShape;
  /** Base-model parameters. */
  parameters: number;
  vocabSize: number;
  /** End-of-sequence token ids. */
  eosTokenIds: number[];
  /** Backend of the onnxruntime-web reference. */
  referenceBackend: 'webgpu' | 'wasm' | 'cpu';
  loadMs: number;
}

// ─── train ───────────────────────────────────────────────────────────────────────────────────────

export interface TrainRequest {
  /** Names the run: its checkpoint and its adapter are kept under this id. */
  runId: string;
  /** The plan to train; omitted to resume from the run's checkpoint (which keeps its plan). */
  plan?: TrainingPlan;
  /** Continue from the run's last checkpoint (its weights, optimizer state and step). */
  resume: boolean;
  /**
   * Save a checkpoint every this many steps (and at the start and the end, on Pause, after a NaN);
   * by default about ten per run (engine-run.ts's checkpointInterval).
   */
  checkpointEvery?: number;
  /** Name for the run's adapter the first time it is saved. */
  adapterName: string;
  /**
   * Destroys the engine's GPUDevice after this step, as a driver reset or a crashed GPU process would
   * (for tests of recovery; the page sets it only with ?debug-lose-device=N in its URL).
   */
  loseDeviceAfterStep?: number;
  /**
   * Overwrites the trainable weights with NaN after this step, so the next loss is NaN (for tests of
   * the NaN stop and restore; the page sets it only with ?debug-nan-after=N in its URL).
   */
  poisonAfterStep?: number;
}

export type TrainStatus = 'finished' | 'stopped' | 'diverged' | 'device-lost';

export interface TrainResult {
  status: TrainStatus;
  /** Optimizer steps done when it ended (the checkpoint's step after a NaN or a lost device). */
  step: number;
  totalSteps: number;
  /** What happened, for the user (a NaN's step, the device's message). */
  message: string;
  /** The saved adapter holding the run's weights (null when none could be saved, e.g. device lost). */
  adapterId: string | null;
  /** Step of the last checkpoint kept in IndexedDB (null when none). */
  checkpointStep: number | null;
}

export interface LossAt {
  step: number;
  loss: number;
}

/** Loss curves, as a checkpoint keeps them and a resumed run starts from. */
export interface TrainHistory {
  train: LossAt[];
  validation: LossAt[];
}

/** Progress of a run, one per event. */
export type TrainUpdate =
  | {
      kind: 'start';
      step: number;
      totalSteps: number;
      /** The curves so far (empty for a fresh run; the checkpoint's for a resumed one). */
      history: TrainHistory;
      trainableParams: number;
      /** Train rows, validation rows, B and T. */
      rows: number;
      validationRows: number;
      batch: number;
      seqLen: number;
    }
  | {
      kind: 'step';
      step: number;
      totalSteps: number;
      loss: number;
      lr: number;
      /** Tokens (B·T positions) processed since this start or resume. */
      tokens: number;
      /** Milliseconds spent in steps since this start or resume. */
      elapsedMs: number;
    }
  | { kind: 'validation'; step: number; loss: number }
  | { kind: 'checkpoint'; step: number; savedAt: number }
  | { kind: 'restored'; step: number; reason: string };

// ─── evaluate ────────────────────────────────────────────────────────────────────────────────────

/** Which weights: the base model alone (no adapter), or a saved adapter attached. */
export type EngineWeights = { adapterId: string | null };

export interface EvaluateRequest extends EngineWeights {
  /** Held-out rows (targets -100 where the loss does not count). */
  rows: PackedRows;
  /** Rows per forward pass. */
  batch: number;
}

export interface EvaluateResult {
  /** Mean cross-entropy over the counted positions, in nats. */
  loss: number;
  perplexity: number;
  /** Positions the loss counted. */
  tokens: number;
}

// ─── compare ─────────────────────────────────────────────────────────────────────────────────────

/** One side of a comparison: the base model on onnxruntime-web, or the engine with or without an adapter. */
export type CompareSide = { runtime: 'onnx' } | { runtime: 'engine'; adapterId: string | null };

export interface CompareRequest {
  prompt: string;
  chat: boolean;
  sampling: SamplingOptions;
  left: CompareSide;
  right: CompareSide;
}

export interface CompareResult {
  left: GenerationResult;
  right: GenerationResult;
}

// ─── parity ──────────────────────────────────────────────────────────────────────────────────────

export interface ParityRequest {
  prompt: string;
  chat: boolean;
}

export interface ParityResult {
  /** Prompt positions compared and the vocabulary width. */
  tokens: number;
  vocab: number;
  /** max |engine − onnxruntime| over every position's logits. */
  maxAbsDiff: number;
  meanAbsDiff: number;
  /** Positions whose most likely next token agrees. */
  argmaxAgree: number;
  threshold: number;
  pass: boolean;
  referenceBackend: string;
}

/** Where the engine's base must match onnxruntime-web's logits (float32 on both sides). */
export const PARITY_THRESHOLD = 1e-3;

// ─── events ──────────────────────────────────────────────────────────────────────────────────────

export interface EngineEventPayloads {
  /** Training progress. */
  train: { update: TrainUpdate };
  /** One token of one side of a comparison. */
  compareToken: { side: 'left' | 'right'; token: StreamedToken };
}

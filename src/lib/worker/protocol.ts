// Messages between the page (client.ts) and the one worker that owns the GPU, the models and the
// engine (engine.worker.ts).
//
// The page sends requests, each with a fresh id; the worker answers with events carrying that id: any
// number of status / progress / token / train events, then exactly one `done` (with the request's
// result) or one `error`. A `cancel` request aborts another request by id.
//
// To add a request kind: an entry in `Requests` with its payload and result, and a handler in
// engine.worker.ts's table. To add an event kind: an entry in `EventPayloads`. Both unions below
// follow from these two maps.

import type { BackendPreference } from '../base/backend.ts';
import type { ModelDtype, ModelSpec } from '../base/catalog.ts';
import type { Backend, LoadedModel } from '../base/runtime.ts';
import type { GenerationResult, StreamedToken } from '../generate/stream.ts';
import type { SamplingOptions } from '../generate/sampling.ts';
import type { PackedRows } from '../data/pack.ts';
import type { ModelConfig } from '../model/config.ts';
import type { TrainingPlan } from '../train/plan.ts';
import type { RunDebug, RunStatus, TrainUpdate } from '../train/run.ts';
import type { InjectedFault } from '../engine.ts';
import type { MethodConfig } from '../adapters/config.ts';
import type { TrainConfig } from '../train/config.ts';
import type { RaftPrompt, RaftRound, RaftSettings } from '../rewards/raft.ts';
import type { RankChoice, RankQuestion } from '../rewards/ranking.ts';
import type { PromptAnswer } from '../rewards/answers.ts';
import type { EvalOutcome } from '../eval/evaluate.ts';
import type { EvalItem } from '../eval/items.ts';
import type { ArchitectureSpec } from '../pretrain/create.ts';

export type { LossAt, RunDebug, RunStatus, TrainHistory, TrainUpdate } from '../train/run.ts';

// ─── load: the base model (transformers.js on onnxruntime-web) ─────────────────────────────────

export interface LoadRequest {
  model: ModelSpec;
  /** 'auto' is WebGPU when the browser has an adapter, else WASM. */
  backend: BackendPreference;
  /** Absolute URL of the app's models/ folder (the page knows its own base; the worker does not). */
  localModels: string;
  /** Host serving the Hub's URL layout, for mirrors and tests; Hugging Face when absent. */
  hubHost?: string;
}

export interface LoadResult extends LoadedModel {
  /** Why the backend is not the one asked for ('auto' that fell back to WASM), shown to the user. */
  fallbackReason?: string;
  /** The WebGPU adapter, in words (vendor, architecture, description), when WebGPU runs the model. */
  adapter?: string;
}

export interface GenerateRequest {
  prompt: string;
  sampling: SamplingOptions;
  /** Wrap the prompt in the model's chat template. */
  chat: boolean;
}

// ─── engineLoad: our WGSL engine on the same model ─────────────────────────────────────────────

export interface EngineLoadRequest {
  /** The model the base runtime has loaded (the engine shares its tokenizer). */
  model: ModelSpec;
  /** Absolute URL of the app's models/ folder. */
  localModels: string;
  /** Host serving the Hub's URL layout; Hugging Face when absent. */
  hubHost?: string;
}

export interface EngineInfo {
  /** Model id (what adapter_config.json's base_model_name_or_path says). */
  model: string;
  /** The model's config.json, parsed: what an adapter for it must fit (import validation uses it). */
  config: ModelConfig;
  /** The WebGPU adapter the engine runs on, in words. */
  gpu: string;
  /** Base-model parameters. */
  parameters: number;
  vocabSize: number;
  /** End-of-sequence token ids. */
  eosTokenIds: number[];
  /** Backend of the onnxruntime-web base runtime the engine is checked against. */
  referenceBackend: Backend;
  /** The ONNX weights the base runtime loaded; null when the model has none (the engine serves its base). */
  referenceDtype: ModelDtype | null;
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
  /** Keep a checkpoint every this many steps (and at the start and the end); about ten per run by default. */
  checkpointEvery?: number;
  /** Name for the run's adapter the first time it is saved. */
  adapterName: string;
  /**
   * Continue a saved adapter (its id in the adapter store): the run starts from its weights instead of
   * the method's initial values, and a DPO run's reference is that adapter as it was. The plan's method
   * must be the adapter's. Absent or null: a fresh adapter (DPO's reference is then the bare base).
   */
  fromAdapterId?: string | null;
  /**
   * General text rows (pretrain/general.ts; the built-in Brown slice, packed by the page) whose loss is
   * measured before and after the run: how much the run forgets. Absent or null: not measured.
   */
  general?: PackedRows | null;
}

/** The plan and the adapter a run saves into, kept in its checkpoint: what Resume needs besides the weights. */
export interface RunSetup {
  plan: TrainingPlan;
  adapterName: string;
  adapterId: string | null;
  /** the saved adapter the run started from (TrainRequest.fromAdapterId), read again on Resume */
  fromAdapterId?: string | null;
  /** The general text's mean loss (TrainRequest.general) with the starting weights and the trained ones, once a fresh run has ended (a resumed run does not measure it). */
  generalLoss?: { before: number; after: number } | null;
  /** Trainable parameters of the run's method on this model (the run's start event). */
  trainableParams?: number;
}

export interface TrainResult {
  status: RunStatus;
  /** Optimizer steps done when it ended (the checkpoint's step after a NaN or a lost device). */
  step: number;
  totalSteps: number;
  /** What happened, for the user (a NaN's step, the device's message). */
  message: string;
  /** The saved adapter holding the run's weights (null when none could be saved, e.g. device lost). */
  adapterId: string | null;
  /** Step of the last checkpoint kept in IndexedDB (null when none). */
  checkpointStep: number | null;
  /** The adapter saved from the run's lowest validation loss, "<name> (best, step N)", when that was not its last step. */
  bestAdapterId?: string | null;
}

// ─── evaluate ────────────────────────────────────────────────────────────────────────────────────

export interface EvaluateRequest {
  /** The base model alone (null), or a saved adapter attached. */
  adapterId: string | null;
  /** Held-out rows (targets IGNORE_INDEX where the loss does not count). */
  rows: PackedRows;
  /** Rows per forward pass. */
  batch: number;
  /** Token id of the padding rows that fill the last batch. */
  padId: number;
}

export interface EvaluateResult {
  /** Mean cross-entropy over the counted positions, in nats. */
  loss: number;
  perplexity: number;
  /** Positions the loss counted. */
  tokens: number;
}

/**
 * Per-example evaluation of one column (src/lib/eval, as `lora-playground eval`): the base or a saved
 * adapter on examples the page prepared (rendered, tokenized, shots in front). One `evalRow` event per
 * example as it is done.
 */
export interface EvaluateExamplesRequest {
  adapterId: string | null;
  items: EvalItem[];
  /** new tokens per greedy generation; 0 skips generation and the text scores */
  maxNewTokens: number;
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

// ─── sample ──────────────────────────────────────────────────────────────────────────────────────

/** One generation from one side (any of compare's), streamed as `token` events. */
export interface SampleRequest {
  prompt: string;
  chat: boolean;
  sampling: SamplingOptions;
  side: CompareSide;
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

// ─── debug ───────────────────────────────────────────────────────────────────────────────────────

/**
 * Where an injected GPU fault strikes: the next engine request that gets there. `import` is attaching
 * a saved adapter's weights (compare and evaluate do it), `generate` the engine's decoding (compare),
 * `evaluate` held-out loss, `parity` the logits check.
 */
export const GPU_FAULT_POINTS = ['import', 'generate', 'evaluate', 'parity'] as const;
export type GpuFaultPoint = (typeof GPU_FAULT_POINTS)[number];

export interface GpuFault {
  at: GpuFaultPoint;
  how: InjectedFault;
}

/** Test hooks: for the next fresh training run (RunDebug), and GPU faults for later engine requests. */
export interface DebugRequest extends RunDebug {
  /** Each strikes once, at the next request that reaches its point. */
  faults?: GpuFault[];
}

// ─── raft and score: the RLHF loop (rewards/raft.ts) and the reward model's ratings ──────────────

/**
 * What ranks RAFT's samples: a rule spec (rewards/rules.ts syntax), a saved reward model's id, or the
 * user: each round the worker sends a raftRank event and waits for a raftRanking request.
 */
export type RaftReward = { kind: 'rule'; spec: string } | { kind: 'model'; adapterId: string } | { kind: 'ranking' };

/** The user's ranking of a waiting RAFT round (request `target`): one choice per prompt (rewards/ranking.ts). */
export interface RaftRankingRequest {
  target: number;
  choices: RankChoice[];
}

export interface RaftRequest {
  /** Names the run: a stopped run continues (resume) under the same id while the page is open. */
  runId: string;
  /** The policy's method (a fresh adapter each new run) and each round's SFT settings. */
  method: MethodConfig;
  config: TrainConfig;
  prompts: RaftPrompt[];
  settings: RaftSettings;
  reward: RaftReward;
  /** Name of the adapter the rounds save into (replaced after every finished round). */
  adapterName: string;
  /** Continue runId's stopped run after its last finished round. */
  resume: boolean;
}

export interface RaftResult {
  status: 'finished' | 'stopped';
  /** Finished rounds (sampling passes) so far. */
  rounds: number;
  /** The saved adapter holding the policy after the last trained round (null before any). */
  adapterId: string | null;
}

export interface ScoreRequest {
  /** A saved reward model (an adapter with the score head). */
  adapterId: string;
  items: PromptAnswer[];
  /** Positions per row: a longer prompt + answer is cut as training cuts it. */
  seqLen: number;
}

// ─── the maps ────────────────────────────────────────────────────────────────────────────────────

/**
 * Pretrain a new model (the New model panel): a fresh Llama of `architecture` (pretrain/create.ts,
 * Hugging Face initialisation) with the shipped tokenizer or a byte-level BPE the worker trains first,
 * trained with full fine-tuning by the one run loop, a greedy sample every `sampleEvery` steps; the
 * result is kept in IndexedDB as a Hugging Face folder (store/models.ts).
 */
export interface PretrainRequest {
  name: string;
  architecture: ArchitectureSpec;
  initializerRange: number;
  seed: number;
  config: TrainConfig;
  steps: number;
  /**
   * 'shipped': rows the page packed with the shipped tokenizer. 'bpe': the text itself; the worker
   * trains a byte-level BPE of `vocabSize` tokens on its training paragraphs (progress events with
   * file 'tokenizer', unit 'merges') and packs it (pretrain/data.ts: the same split and packing).
   */
  data: { tokenizer: 'shipped'; train: PackedRows; validation: PackedRows; padId: number } | { tokenizer: 'bpe'; vocabSize: number; texts: string[] };
  /** What the rows came from, for the kept model's description. */
  dataset: string;
  sample: { every: number; prompt: string; maxNewTokens: number };
  /** Absolute URL of the app's models/ folder: the shipped tokenizer's files are copied from there. */
  localModels: string;
}

export interface PretrainResult {
  status: RunStatus;
  step: number;
  message: string;
  /** The kept model (null when the run ended before a step, or lost its device). */
  modelId: string | null;
}

/** Every request kind: what the page sends and what the worker's `done` event returns. */
export interface Requests {
  load: { payload: LoadRequest; result: LoadResult };
  generate: { payload: GenerateRequest; result: GenerationResult };
  cancel: { payload: { target: number }; result: { cancelled: boolean } };
  engineLoad: { payload: EngineLoadRequest; result: EngineInfo };
  train: { payload: TrainRequest; result: TrainResult };
  evaluate: { payload: EvaluateRequest; result: EvaluateResult };
  evaluateExamples: { payload: EvaluateExamplesRequest; result: EvalOutcome };
  compare: { payload: CompareRequest; result: CompareResult };
  sample: { payload: SampleRequest; result: GenerationResult };
  parity: { payload: ParityRequest; result: ParityResult };
  raft: { payload: RaftRequest; result: RaftResult };
  /** Answered at once, like cancel: `delivered` is false when no round of `target` waits for a ranking. */
  raftRanking: { payload: RaftRankingRequest; result: { delivered: boolean } };
  score: { payload: ScoreRequest; result: { rewards: number[] } };
  /**
   * Test hooks (the page sends them only when its URL asks): for the next fresh training run, lose
   * the GPU device or poison the weights with NaN after a step (?debug-lose-device=N,
   * ?debug-nan-after=N); and GPU faults that strike later engine requests (?debug-gpu-fault=…).
   */
  debug: { payload: DebugRequest; result: { armed: boolean } };
  pretrain: { payload: PretrainRequest; result: PretrainResult };
}

export type RequestKind = keyof Requests;
export type RequestOf<K extends RequestKind> = { id: number; kind: K } & Requests[K]['payload'];
export type Request = { [K in RequestKind]: RequestOf<K> }[RequestKind];
export type ResultOf<K extends RequestKind> = Requests[K]['result'];

/** Every event kind the worker sends, without the id common to all. */
export interface EventPayloads {
  /** A phase began: shown as a line of text under the progress bar. */
  status: { stage: string; message: string };
  /** Bytes of model files loaded so far, over all files seen so far (or `unit`s done, e.g. a tokenizer's merges). */
  progress: { file: string; loaded: number; total: number; unit?: string };
  /** One generated token and the text it added. */
  token: { token: StreamedToken };
  /** The request finished; `result` is ResultOf<its kind>. */
  done: { result: unknown };
  /** The request failed; nothing more comes for this id. */
  error: { message: string };
  /** Training progress. */
  train: { update: TrainUpdate };
  /** Examples of an evaluateExamples request done so far. */
  evalRow: { done: number; total: number };
  /** One token of one side of a comparison. */
  compareToken: { side: 'left' | 'right'; token: StreamedToken };
  /** A RAFT round finished (its samples scored, its kept answers trained on) and was saved. */
  raftRound: { round: RaftRound; adapterId: string | null };
  /** A RAFT round with the user's ranking as its reward sampled its answers and waits for a raftRanking request. */
  raftRank: { question: RankQuestion };
}

export type EventType = keyof EventPayloads;
export type WorkerEventOf<T extends EventType> = { type: T; id: number } & EventPayloads[T];
export type WorkerEvent = { [T in EventType]: WorkerEventOf<T> }[EventType];

/** An event as a handler emits it; the worker loop adds the request's id. */
export type EmittedEvent = { [T in Exclude<EventType, 'done' | 'error'>]: { type: T } & EventPayloads[T] }[Exclude<
  EventType,
  'done' | 'error'
>];

export type { Backend, BackendPreference };

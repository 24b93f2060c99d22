// Messages between the page (client.ts) and the one worker that owns the models (engine.worker.ts).
//
// The page sends requests, each with a fresh id; the worker answers with events carrying that id: any
// number of status / progress / token events, then exactly one `done` (with the request's result) or
// one `error`. A `cancel` request aborts another request by id.
//
// To add a request kind (the engine's train, tuned generation, …): add an entry to `Requests` with its
// payload and result, and a handler in engine.worker.ts. To add an event kind (a training `step`): add an
// entry to `EventPayloads`. Both unions below follow from these two maps.

import type { BackendPreference } from '../base/backend.ts';
import type { ModelSpec } from '../base/catalog.ts';
import type { Backend, GenerationResult, LoadedModel, StreamedToken } from '../base/runtime.ts';
import type { SamplingOptions } from '../generate/sampling.ts';
import type * as Engine from './engine-protocol.ts';

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

export interface CancelRequest {
  /** Id of the request to abort. */
  target: number;
}

/** Every request kind: what the page sends and what the worker's `done` event returns. */
export interface Requests {
  load: { payload: LoadRequest; result: LoadResult };
  generate: { payload: GenerateRequest; result: GenerationResult };
  cancel: { payload: CancelRequest; result: { cancelled: boolean } };
  // The engine (WGSL): engine-protocol.ts, handlers in engine-handlers.ts.
  engineLoad: { payload: Engine.EngineLoadRequest; result: Engine.EngineInfo };
  train: { payload: Engine.TrainRequest; result: Engine.TrainResult };
  evaluate: { payload: Engine.EvaluateRequest; result: Engine.EvaluateResult };
  compare: { payload: Engine.CompareRequest; result: Engine.CompareResult };
  parity: { payload: Engine.ParityRequest; result: Engine.ParityResult };
}

export type RequestKind = keyof Requests;
export type RequestOf<K extends RequestKind> = { id: number; kind: K } & Requests[K]['payload'];
export type Request = { [K in RequestKind]: RequestOf<K> }[RequestKind];
export type ResultOf<K extends RequestKind> = Requests[K]['result'];

/** Every event kind the worker sends, without the id common to all. */
export interface EventPayloads {
  /** A phase began: shown as a line of text under the progress bar. */
  status: { stage: string; message: string };
  /** Bytes of model files loaded so far, over all files seen so far. */
  progress: { file: string; loaded: number; total: number };
  /** One generated token and the text it added. */
  token: { token: StreamedToken };
  /** The request finished; `result` is ResultOf<its kind>. */
  done: { result: unknown };
  /** The request failed; nothing more comes for this id. */
  error: { message: string };
  /** Training progress (engine-protocol.ts's TrainUpdate). */
  train: Engine.EngineEventPayloads['train'];
  /** One token of one side of a comparison. */
  compareToken: Engine.EngineEventPayloads['compareToken'];
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

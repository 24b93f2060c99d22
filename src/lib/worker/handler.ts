// What a request handler in the worker looks like. One handler per request kind (see engine.worker.ts).

import type { EmittedEvent, RequestKind, RequestOf, ResultOf } from './protocol.ts';

export interface HandlerContext {
  /** Sends an event for this request (status, progress, token, …); ArrayBuffers in `transfer` move. */
  emit(event: EmittedEvent, transfer?: Transferable[]): void;
  /** Aborted when the page cancels this request. */
  signal: AbortSignal;
}

export type Handler<K extends RequestKind> = (request: RequestOf<K>, context: HandlerContext) => Promise<ResultOf<K>>;

/** Every request kind but `cancel` and `raftRanking`, which the worker loop answers itself at once. */
export type HandledKind = Exclude<RequestKind, 'cancel' | 'raftRanking'>;
export type Handlers = { [K in HandledKind]: Handler<K> };

// The page's side of the worker: send a request, get its events as they come and its result as a
// promise. Svelte components talk to this (through the *.svelte.ts state classes), never to the worker,
// the GPU or the ops directly.

import type { RequestKind, Requests, ResultOf, WorkerEvent } from './protocol.ts';

/** A request in flight. */
export interface Task<R> {
  id: number;
  /** Resolves with the `done` event's result; rejects with the `error` event's message. */
  result: Promise<R>;
  /** Asks the worker to abort this request (it still ends with `done` or `error`). */
  cancel(): void;
}

interface Pending {
  onEvent?: (event: WorkerEvent) => void;
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/** Anything that behaves like a Worker (a real one in the page; a stand-in in tests). */
export interface WorkerLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<WorkerEvent>) => void): void;
  addEventListener(type: 'error', listener: (event: ErrorEvent) => void): void;
  terminate(): void;
}

export function createEngineWorker(): Worker {
  return new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
}

export class EngineClient {
  private readonly worker: WorkerLike;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Set once the worker itself failed (its script did not load, or it crashed). */
  fatal: string | null = null;

  constructor(worker: WorkerLike = createEngineWorker()) {
    this.worker = worker;
    worker.addEventListener('message', (message: MessageEvent<WorkerEvent>) => this.receive(message.data));
    worker.addEventListener('error', (event: ErrorEvent) => {
      this.fatal = `The model worker failed: ${event.message || 'its script could not be loaded'}`;
      for (const pending of this.pending.values()) pending.reject(new Error(this.fatal));
      this.pending.clear();
    });
  }

  /** Sends a request; `onEvent` sees its status, progress and token events (and the final one). */
  request<K extends RequestKind>(
    kind: K,
    payload: Requests[K]['payload'],
    onEvent?: (event: WorkerEvent) => void,
  ): Task<ResultOf<K>> {
    const id = this.nextId++;
    const result = new Promise<ResultOf<K>>((resolve, reject) => {
      if (this.fatal) return reject(new Error(this.fatal));
      this.pending.set(id, { onEvent, resolve: resolve as (r: unknown) => void, reject });
      this.worker.postMessage({ ...payload, id, kind });
    });
    return { id, result, cancel: () => this.cancel(id) };
  }

  /** Aborts request `target`; resolves true when the worker still had it. */
  cancel(target: number): Promise<boolean> {
    return this.request('cancel', { target }).result.then((r) => r.cancelled);
  }

  dispose(): void {
    this.worker.terminate();
    for (const pending of this.pending.values()) pending.reject(new Error('the worker was shut down'));
    this.pending.clear();
  }

  private receive(event: WorkerEvent): void {
    const pending = this.pending.get(event.id);
    if (!pending) return;
    pending.onEvent?.(event);
    if (event.type === 'done') {
      this.pending.delete(event.id);
      pending.resolve(event.result);
    } else if (event.type === 'error') {
      this.pending.delete(event.id);
      pending.reject(new Error(event.message));
    }
  }
}

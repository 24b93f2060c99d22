/// <reference lib="webworker" />
// The one worker that owns the GPUDevice, the models and the engine. It runs requests one at a time,
// in arrival order, so a generation never interleaves with a load or a training step; `cancel` is
// answered at once, so the page can stop a long generation between two tokens or a run between steps,
// and so is `raftRanking`, the user's answer to a RAFT run that waits for it.

import * as base from './base-handlers.ts';
import * as engine from './engine-handlers.ts';
import * as rewards from './raft-handlers.ts';
import { evaluateExamples } from './eval-handlers.ts';
import { pretrain } from './pretrain-handler.ts';
import type { HandledKind, HandlerContext, Handlers } from './handler.ts';
import type { EmittedEvent, Request, RequestOf, WorkerEvent } from './protocol.ts';

declare const self: DedicatedWorkerGlobalScope;

const handlers: Handlers = {
  load: base.load,
  generate: base.generate,
  engineLoad: engine.engineLoad,
  train: engine.train,
  evaluate: engine.evaluate,
  evaluateExamples,
  compare: engine.compare,
  sample: engine.sample,
  parity: engine.parity,
  debug: engine.debug,
  raft: rewards.raft,
  score: rewards.score,
  pretrain,
};

function post(event: WorkerEvent, transfer: Transferable[] = []): void {
  self.postMessage(event, transfer);
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** Abort controllers of queued and running requests, by id. */
const running = new Map<number, AbortController>();
let queue: Promise<void> = Promise.resolve();

async function run<K extends HandledKind>(request: RequestOf<K>, controller: AbortController): Promise<void> {
  const context: HandlerContext = {
    emit: (event: EmittedEvent, transfer?: Transferable[]) => post({ ...event, id: request.id } as WorkerEvent, transfer),
    signal: controller.signal,
  };
  try {
    if (controller.signal.aborted) throw new Error('cancelled before it started');
    const handler = handlers[request.kind] as (r: RequestOf<K>, c: HandlerContext) => Promise<unknown>;
    if (!handler) throw new Error(`unknown request kind: ${String(request.kind)}`);
    const result = await handler(request, context);
    post({ type: 'done', id: request.id, result });
  } catch (err) {
    console.error(err);
    post({ type: 'error', id: request.id, message: describe(err) });
  } finally {
    running.delete(request.id);
  }
}

self.onmessage = (message: MessageEvent<Request>) => {
  const request = message.data;
  if (request.kind === 'cancel') {
    const controller = running.get(request.target);
    controller?.abort();
    post({ type: 'done', id: request.id, result: { cancelled: controller !== undefined } });
    return;
  }
  if (request.kind === 'raftRanking') {
    // the RAFT run it answers is running (waiting for it): answered at once, not queued behind it
    post({ type: 'done', id: request.id, result: { delivered: rewards.deliverRanking(request.target, request.choices) } });
    return;
  }
  const controller = new AbortController();
  running.set(request.id, controller);
  queue = queue.then(() => run(request, controller));
};

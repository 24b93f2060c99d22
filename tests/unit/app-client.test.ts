import { describe, expect, it } from 'vitest';
import { EngineClient, type WorkerLike } from '../../src/lib/worker/client.ts';
import type { Request, WorkerEvent } from '../../src/lib/worker/protocol.ts';

/** The worker's side of the wire: records requests, lets the test answer with events or fail. */
class WireEnd implements WorkerLike {
  readonly sent: Request[] = [];
  terminated = false;
  private onMessage: ((event: MessageEvent<WorkerEvent>) => void)[] = [];
  private onError: ((event: ErrorEvent) => void)[] = [];

  postMessage(message: unknown): void {
    this.sent.push(structuredClone(message) as Request);
  }
  addEventListener(type: 'message', listener: (event: MessageEvent<WorkerEvent>) => void): void;
  addEventListener(type: 'error', listener: (event: ErrorEvent) => void): void;
  addEventListener(type: 'message' | 'error', listener: ((event: MessageEvent<WorkerEvent>) => void) | ((event: ErrorEvent) => void)): void {
    if (type === 'message') this.onMessage.push(listener as (event: MessageEvent<WorkerEvent>) => void);
    else this.onError.push(listener as (event: ErrorEvent) => void);
  }
  terminate(): void {
    this.terminated = true;
  }
  answer(event: WorkerEvent): void {
    for (const l of this.onMessage) l({ data: event } as MessageEvent<WorkerEvent>);
  }
  crash(message: string): void {
    for (const l of this.onError) l({ message } as ErrorEvent);
  }
}

const sampling = { maxNewTokens: 4, temperature: 0, topK: 0, topP: 1, seed: 1 };

describe('EngineClient', () => {
  it('sends each request with a fresh id and its kind next to the payload', () => {
    const wire = new WireEnd();
    const client = new EngineClient(wire);
    const a = client.request('generate', { prompt: 'a', sampling, chat: false });
    const b = client.request('generate', { prompt: 'b', sampling, chat: true });
    expect(a.id).not.toBe(b.id);
    expect(wire.sent).toEqual([
      { id: a.id, kind: 'generate', prompt: 'a', sampling, chat: false },
      { id: b.id, kind: 'generate', prompt: 'b', sampling, chat: true },
    ]);
  });

  it('routes events to their request and resolves with the done event’s result', async () => {
    const wire = new WireEnd();
    const client = new EngineClient(wire);
    const seenA: WorkerEvent[] = [];
    const seenB: WorkerEvent[] = [];
    const a = client.request('generate', { prompt: 'a', sampling, chat: false }, (e) => seenA.push(e));
    const b = client.request('cancel', { target: 99 }, (e) => seenB.push(e));
    const token = { type: 'token', id: a.id, token: { index: 0, id: 5, text: 'x' } } as const;
    wire.answer(token);
    wire.answer({ type: 'done', id: b.id, result: { cancelled: false } });
    await expect(b.result).resolves.toEqual({ cancelled: false });
    const result = { text: 'x' };
    wire.answer({ type: 'done', id: a.id, result });
    await expect(a.result).resolves.toBe(result);
    expect(seenA.map((e) => e.type)).toEqual(['token', 'done']);
    expect(seenB.map((e) => e.type)).toEqual(['done']);
  });

  it('rejects with the error event’s message', async () => {
    const wire = new WireEnd();
    const client = new EngineClient(wire);
    const task = client.request('generate', { prompt: '', sampling, chat: false });
    wire.answer({ type: 'error', id: task.id, message: 'the prompt is empty' });
    await expect(task.result).rejects.toThrow('the prompt is empty');
  });

  it('cancels a request by sending a cancel request that targets its id', () => {
    const wire = new WireEnd();
    const client = new EngineClient(wire);
    const task = client.request('generate', { prompt: 'a', sampling, chat: false });
    task.cancel();
    expect(wire.sent[1]).toMatchObject({ kind: 'cancel', target: task.id });
  });

  it('fails every pending request, and later ones, when the worker itself fails', async () => {
    const wire = new WireEnd();
    const client = new EngineClient(wire);
    const task = client.request('generate', { prompt: 'a', sampling, chat: false });
    wire.crash('SyntaxError in engine.worker.js');
    await expect(task.result).rejects.toThrow(/model worker failed: SyntaxError/);
    await expect(client.request('generate', { prompt: 'b', sampling, chat: false }).result).rejects.toThrow(/model worker failed/);
  });
});

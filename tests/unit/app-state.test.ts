// The page's state classes (*.svelte.ts, compiled by the Svelte plugin) driven without a worker: a
// stand-in answers requests with the events a real worker sends.

import { describe, expect, it } from 'vitest';
import type { GenerationResult } from '../../src/lib/generate/stream.ts';
import type { Task } from '../../src/lib/worker/client.ts';
import type { WorkerEvent } from '../../src/lib/worker/protocol.ts';
import { GenerationStream } from '../../src/ui/generation.svelte.ts';
import { ModelLoad } from '../../src/ui/model-load.svelte.ts';

/** A request the test finishes by hand, with a way to send its events. */
function pending<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const result = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  let emit: (e: WorkerEvent) => void = () => {};
  const task: Task<T> = { id: 1, result, cancel() {} };
  const start = (onEvent: (e: WorkerEvent) => void) => {
    emit = onEvent;
    return task;
  };
  return { start, resolve, reject, emit: (e: WorkerEvent) => emit(e) };
}

describe('ModelLoad', () => {
  it('follows a load: stage and bytes from the worker’s events, then the value', async () => {
    const load = new ModelLoad<string>();
    const req = pending<string>();
    const done = load.run('Starting…', req.start);
    expect(load.phase).toBe('loading');
    expect(load.stage).toBe('Starting…');
    expect(load.progress).toBeNull();
    req.emit({ type: 'status', id: 1, stage: 'download', message: 'Downloading the weights' });
    req.emit({ type: 'progress', id: 1, file: 'model.onnx', loaded: 250, total: 1000 });
    expect(load.stage).toBe('Downloading the weights');
    expect(load.progress).toBe(0.25);
    req.resolve('the model');
    expect(await done).toBe('the model');
    expect(load.ready).toBe(true);
    expect(load.value).toBe('the model');
    expect(load.stage).toBe('');
  });

  it('ends in an error with the worker’s message', async () => {
    const load = new ModelLoad<string>();
    const req = pending<string>();
    const done = load.run('Starting…', req.start);
    req.reject(new Error('no such model'));
    expect(await done).toBeNull();
    expect(load.phase).toBe('error');
    expect(load.error).toBe('no such model');
    expect(load.ready).toBe(false);
  });

  it('ignores a superseded load’s events and outcome', async () => {
    const load = new ModelLoad<string>();
    const first = pending<string>();
    const second = pending<string>();
    const a = load.run('first', first.start);
    const b = load.run('second', second.start);
    first.emit({ type: 'status', id: 1, stage: 's', message: 'old news' });
    expect(load.stage).toBe('second');
    first.resolve('old model');
    expect(await a).toBeNull();
    expect(load.phase).toBe('loading');
    second.resolve('new model');
    expect(await b).toBe('new model');
    expect(load.value).toBe('new model');
  });
});

describe('GenerationStream', () => {
  it('adds streamed tokens, measures the live speed from the first token, and takes the result’s text at the end', () => {
    const g = new GenerationStream();
    g.push({ index: 0, id: 5, text: 'Hel' }, 1000);
    expect(g.liveTokensPerSecond).toBe(0);
    g.push({ index: 1, id: 6, text: 'lo' }, 1500);
    g.push({ index: 2, id: 7, text: '' }, 2000);
    expect(g.text).toBe('Hello');
    expect(g.tokens).toBe(3);
    expect(g.liveTokensPerSecond).toBeCloseTo(2, 12);
    const result = { text: 'Hello!', tokenIds: [5, 6, 7, 8] } as GenerationResult;
    g.finish(result);
    expect(g.text).toBe('Hello!');
    expect(g.tokens).toBe(4);
    g.reset();
    expect([g.text, g.tokens, g.result]).toEqual(['', 0, null]);
  });
});

// The page's state classes (*.svelte.ts, compiled by the Svelte plugin) driven without a worker: a
// stand-in answers requests with the events a real worker sends.

import { describe, expect, it } from 'vitest';
import type { GenerationResult } from '../../src/lib/generate/stream.ts';
import type { TrainingPlan } from '../../src/lib/train/plan.ts';
import type { EngineClient, Task } from '../../src/lib/worker/client.ts';
import type { TrainResult, TrainUpdate, WorkerEvent } from '../../src/lib/worker/protocol.ts';
import { defaultMethod } from '../../src/lib/train/config.ts';
import { GenerationStream } from '../../src/ui/generation.svelte.ts';
import { ModelLoad } from '../../src/ui/model-load.svelte.ts';
import { earlierRun, unfinished, type EarlierRun, type KeptRuns } from '../../src/ui/train/run.ts';
import { TrainState } from '../../src/ui/train/train.svelte.ts';
import { TrainScreens } from '../../src/ui/train/screens.svelte.ts';
import { BaseModelState } from '../../src/ui/base.svelte.ts';
import { parsePageOptions } from '../../src/ui/url-options.ts';

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

/** An EngineClient stand-in that hands each request's event handler and outcome to the test. */
function fakeClient() {
  const requests: { kind: string; payload: unknown; req: ReturnType<typeof pending<unknown>> }[] = [];
  const client = {
    request(kind: string, payload: unknown, onEvent?: (e: WorkerEvent) => void) {
      const req = pending<unknown>();
      requests.push({ kind, payload, req });
      return req.start(onEvent ?? (() => {}));
    },
  } as unknown as EngineClient;
  return { client, requests };
}

const plan = (steps: number) => ({ steps, method: defaultMethod('LORA'), data: { name: 'pirate.jsonl' } }) as unknown as TrainingPlan;
const saved = (step: number, steps: number): EarlierRun => earlierRun({ runId: 'r1', step, savedAt: 0, run: { plan: plan(steps), adapterName: 'LoRA r8 · pirate.jsonl', adapterId: 'a1' } })!;

describe('TrainState before the first step', () => {
  it('says what the run is doing (the run loop’s stage updates) until the first step arrives', async () => {
    const { client, requests } = fakeClient();
    const t = new TrainState(client);
    const done = t.start(plan(4));
    expect(t.phase).toBe('starting');
    expect(t.stage).not.toBe('');
    const say = (update: TrainUpdate) => requests[0].req.emit({ type: 'train', id: 1, update });
    say({ kind: 'start', step: 0, totalSteps: 4, history: { train: [], validation: [] }, trainableParams: 10, rows: 8, validationRows: 1, batch: 4, seqLen: 32, objective: 'sft' });
    say({ kind: 'stage', message: 'Measuring the validation loss before training (1 rows)…' });
    expect(t.stage).toBe('Measuring the validation loss before training (1 rows)…');
    say({ kind: 'stage', message: 'Step 1: compiling the GPU programs…' });
    expect(t.stage).toBe('Step 1: compiling the GPU programs…');
    say({ kind: 'step', step: 1, totalSteps: 4, loss: 5.5, lr: 0.01, tokens: 128, elapsedMs: 40_000 });
    expect(t.stage).toBe('');
    expect(t.step).toBe(1);
    const result: TrainResult = { status: 'finished', step: 4, totalSteps: 4, message: 'Trained 4 steps.', adapterId: 'a1', checkpointStep: 4 };
    requests[0].req.resolve(result);
    await done;
    expect([t.phase, t.stage]).toEqual(['finished', '']);
  });
});

/** Runs kept in this browser, in memory: what IndexedDB holds for TrainState. */
function keptRuns(...runs: EarlierRun[]): KeptRuns & { runs: EarlierRun[] } {
  const store = {
    runs,
    list: async () => store.runs,
    remove: async (runId: string) => {
      store.runs = store.runs.filter((r) => r.runId !== runId);
    },
  };
  return store;
}

describe('a run left by an earlier visit', () => {
  it('is offered for Resume only when it stopped before its last step', async () => {
    const { client } = fakeClient();
    const stopped = new TrainState(client, null, keptRuns(saved(6, 24)));
    await stopped.findEarlier();
    expect(stopped.canResume).toBe(true);
    expect(stopped.plan?.data.name).toBe('pirate.jsonl');

    const finished = new TrainState(client, null, keptRuns(saved(24, 24)));
    await finished.findEarlier();
    expect(finished.earlier).not.toBeNull();
    expect(finished.canResume).toBe(false);
  });

  it('resumes the earlier run by its id, under its adapter’s name', async () => {
    const { client, requests } = fakeClient();
    const t = new TrainState(client, null, keptRuns(saved(6, 24)));
    await t.findEarlier();
    void t.resume();
    expect(requests[0].kind).toBe('train');
    expect(requests[0].payload).toMatchObject({ runId: 'r1', resume: true, adapterName: 'LoRA r8 · pirate.jsonl' });
    expect(t.earlier).toBeNull();
  });

  it('is read from a checkpoint record that keeps the plan; an older record without one is ignored', () => {
    expect(unfinished(saved(6, 24))).toBe(true);
    expect(unfinished(saved(24, 24))).toBe(false);
    expect(earlierRun({ runId: 'x', step: 3, savedAt: 0, run: undefined as never })).toBeNull();
    expect(earlierRun(null)).toBeNull();
  });
});

describe('unfinished runs other than the newest', () => {
  const run = (runId: string, step: number, steps: number, savedAt: number): EarlierRun => ({ ...saved(step, steps), runId, savedAt, adapterName: `Run ${runId}` });

  it('are listed, each can be resumed by its own id and forgotten; finished ones are not listed', async () => {
    const { client, requests } = fakeClient();
    const kept = keptRuns(run('newest', 3, 24, 30), run('older', 10, 24, 20), run('done', 24, 24, 10), run('oldest', 1, 8, 5));
    const t = new TrainState(client, null, kept);
    await t.findEarlier();
    expect(t.earlier?.runId).toBe('newest');
    expect(t.otherRuns.map((r) => r.runId)).toEqual(['older', 'oldest']);

    await t.forget(t.otherRuns[1]);
    expect(kept.runs.map((r) => r.runId)).toEqual(['newest', 'older', 'done']);
    expect(t.otherRuns.map((r) => r.runId)).toEqual(['older']);

    void t.resumeRun(t.otherRuns[0]);
    expect(requests[0].payload).toMatchObject({ runId: 'older', resume: true, adapterName: 'Run older' });
    expect(t.plan?.steps).toBe(24);
    // The run being resumed is not listed as another; the newest one now is.
    expect(t.otherRuns.map((r) => r.runId)).toEqual(['newest']);
  });
});

describe('the model while a training run uses it', () => {
  it('cannot be reloaded or changed, says why with the run’s step, and can again once the run ends', async () => {
    const { client, requests } = fakeClient();
    const base = new BaseModelState(client, parsePageOptions(''));
    const screens = new TrainScreens(client, base, null);
    screens.forgetting.measure = false; // on by default; this test is about the model lock
    try {
      const run = screens.train.start(plan(60));
      expect(base.lockedBy).toBe('a training run is using the model (starting)');
      const train = requests.find((r) => r.kind === 'train')!;
      train.req.emit({ type: 'train', id: 1, update: { kind: 'start', step: 0, totalSteps: 60, history: { train: [], validation: [] }, trainableParams: 1, rows: 8, validationRows: 0, batch: 4, seqLen: 32, objective: 'sft' } });
      train.req.emit({ type: 'train', id: 1, update: { kind: 'step', step: 12, totalSteps: 60, loss: 2, lr: 0.01, tokens: 128, elapsedMs: 10 } });
      expect(base.lockedBy).toBe('a training run is using the model (step 12 of 60)');
      // Reload and Generate ask nothing of the worker (it would run them only after the run).
      await base.load();
      await base.generate();
      expect(requests.map((r) => r.kind)).toEqual(['train']);
      expect(base.phase).toBe('idle');

      train.req.resolve({ status: 'stopped', step: 12, totalSteps: 60, message: 'Stopped at step 12 of 60.', adapterId: null, checkpointStep: 12 } satisfies TrainResult);
      await run;
      expect(base.lockedBy).toBeNull();
      (globalThis as { document?: unknown }).document = { baseURI: 'http://localhost/app/' };
      void base.load();
      expect(requests.map((r) => r.kind)).toEqual(['train', 'load']);
    } finally {
      screens.close();
      delete (globalThis as { document?: unknown }).document;
    }
  });
});

// The preference screens' state classes driven without a worker: sample and pick asks the worker for
// K samples of one side with the seed varied and keeps the pairs of a pick; a comparison remembers who
// produced each side for the verdict; a verdict is kept once per comparison (store: fake-indexeddb).

import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { GenerationResult } from '../../src/lib/generate/stream.ts';
import { DEFAULT_SAMPLING } from '../../src/lib/generate/sampling.ts';
import type { EngineClient, Task } from '../../src/lib/worker/client.ts';
import type { RequestKind, Requests, WorkerEvent } from '../../src/lib/worker/protocol.ts';
import { STORES, transact } from '../../src/lib/store/db.ts';
import { CompareState } from '../../src/ui/compare/compare.svelte.ts';
import { adapterChoice, ONNX_BASE } from '../../src/ui/compare/sides.ts';
import { PreferenceState } from '../../src/ui/prefs/preferences.svelte.ts';

const result = (text: string): GenerationResult => ({
  renderedPrompt: 'Q',
  promptIds: [1],
  tokenIds: [2, 3],
  text,
  stopReason: 'length',
  prefillMs: 1,
  decodeMs: 1,
  tokensPerSecond: 1,
});

/** A stand-in worker: answers `sample` with a text per seed and `compare` with two texts; records requests. */
function standIn(answer: (kind: RequestKind, payload: unknown) => unknown) {
  const sent: { kind: RequestKind; payload: unknown }[] = [];
  const client = {
    request<K extends RequestKind>(kind: K, payload: Requests[K]['payload'], onEvent?: (e: WorkerEvent) => void): Task<Requests[K]['result']> {
      sent.push({ kind, payload: structuredClone(payload) });
      const r = answer(kind, payload) as Requests[K]['result'];
      // Events arrive later than the request is sent, as a worker's messages do.
      const id = sent.length;
      const done = new Promise<Requests[K]['result']>((resolve) =>
        setTimeout(() => {
          if (kind === 'sample') onEvent?.({ type: 'token', id, token: { id: 2, text: (r as GenerationResult).text } } as WorkerEvent);
          resolve(r);
        }, 0),
      );
      return { id, result: done, cancel() {} };
    },
  } as unknown as EngineClient;
  return { client, sent };
}

beforeEach(async () => {
  await transact([STORES.preferences, STORES.judgments], 'readwrite', (tx) => {
    tx.objectStore(STORES.preferences).clear();
    tx.objectStore(STORES.judgments).clear();
  });
});

describe('sample and pick', () => {
  it('draws K samples of one side, seed, seed + 1, …, and keeps best × every other as pairs', async () => {
    const { client, sent } = standIn((_, p) => result(` text of seed ${(p as { sampling: { seed: number } }).sampling.seed}`));
    const prefs = new PreferenceState(client, async () => {});
    const s = prefs.pick;
    s.model = adapterChoice('a1');
    s.prompt = 'Q';
    s.k = 3;
    await s.draw({ ...DEFAULT_SAMPLING, seed: 100 }, { model: 'tiny', runtime: 'engine', adapterId: 'a1', adapterName: 'pirate' });
    expect(sent.map((r) => r.kind)).toEqual(['sample', 'sample', 'sample']);
    expect(sent.map((r) => (r.payload as { sampling: { seed: number } }).sampling.seed)).toEqual([100, 101, 102]);
    expect(sent.every((r) => JSON.stringify((r.payload as { side: unknown }).side) === JSON.stringify({ runtime: 'engine', adapterId: 'a1' }))).toBe(true);
    expect(s.streams.map((x) => x.text)).toEqual([' text of seed 100', ' text of seed 101', ' text of seed 102']);
    s.best = 2;
    await s.keep(prefs);
    expect(prefs.pairs.map((p) => [p.chosen, p.rejected, p.chosenBy.sampling.seed, p.rejectedBy.adapterName])).toEqual([
      [' text of seed 102', ' text of seed 100', 102, 'pirate'],
      [' text of seed 102', ' text of seed 101', 102, 'pirate'],
    ]);
    expect(s.kept).toBe('Kept 2 pairs.');
  });

  it('draws 2 to 8 samples whatever the field holds', () => {
    const s = new PreferenceState(standIn(() => null).client, async () => {}).pick;
    expect([12, 1, 2.6, Number.NaN].map((k) => ((s.k = k), s.count))).toEqual([8, 2, 3, 2]);
  });

  it('refuses greedy decoding, which gives every seed the same text', async () => {
    const { client, sent } = standIn(() => result(' x'));
    const s = new PreferenceState(client, async () => {}).pick;
    s.prompt = 'Q';
    await s.draw({ ...DEFAULT_SAMPLING, temperature: 0 }, { model: 'tiny', runtime: 'onnx', adapterId: null, adapterName: null });
    expect(sent).toEqual([]);
    expect(s.error).toMatch(/Greedy decoding/);
  });
});

describe('a verdict on a comparison', () => {
  it('records who produced each side, fixed when the comparison started, and keeps one verdict per comparison', async () => {
    const { client } = standIn(() => ({ left: result(' base text'), right: result(' tuned text') }));
    const c = new CompareState(client);
    c.left = ONNX_BASE;
    c.right = adapterChoice('a1');
    c.prompt = 'What is the sea?';
    await c.compare({ ...DEFAULT_SAMPLING, seed: 9 }, { model: 'tiny', adapterName: (choice) => (choice === adapterChoice('a1') ? 'pirate' : null) });
    const f = c.finished!;
    expect(f.left).toEqual({ text: ' base text', by: { model: 'tiny', runtime: 'onnx', adapterId: null, adapterName: null, sampling: { ...DEFAULT_SAMPLING, seed: 9 }, chat: false } });
    expect(f.right.by).toMatchObject({ runtime: 'engine', adapterId: 'a1', adapterName: 'pirate' });

    let opened: { name: string; bytes: Uint8Array } | null = null;
    const prefs = new PreferenceState(client, async (file) => void (opened = file));
    await prefs.judge(f.run, f.prompt, f.left, f.right, 'right');
    await prefs.judge(f.run, f.prompt, f.left, f.right, 'left'); // the same comparison: ignored
    expect(prefs.verdict).toMatchObject({ run: f.run, verdict: 'right', problem: null });
    expect(prefs.judgments.map((j) => j.verdict)).toEqual(['right']);
    expect(prefs.pairs.map((p) => [p.prompt, p.chosen, p.rejected])).toEqual([['What is the sea?', ' tuned text', ' base text']]);
    expect(prefs.winRates).toMatchObject([{ adapterName: 'pirate', won: 1, total: 1 }]);

    // "Use for DPO" hands the dataset screen the exported file.
    await prefs.useForDpo();
    expect(opened!.name).toBe('preferences.jsonl');
    expect(new TextDecoder().decode(opened!.bytes)).toBe('{"prompt":"What is the sea?","chosen":" tuned text","rejected":" base text"}\n');
  });
});

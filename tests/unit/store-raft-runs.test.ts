// The RAFT run kept for a reload (IndexedDB, here fake-indexeddb's in-memory implementation of the
// same API): the database's upgrade to version 4 adds the store and keeps what version 3 held; a run's
// record round-trips (its request and rounds, as the worker writes them after every round), a new run
// replaces an older one; and the RAFT panel of a new page shows the unfinished run, stopped, and
// continues it with the same request and run id.

import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { defaultMethod, defaultTrainConfig } from '../../src/lib/train/config.ts';
import { RAFT_DEFAULTS, type RaftRound } from '../../src/lib/rewards/raft.ts';
import { DB_NAME, DB_VERSION, openDatabase, STORES } from '../../src/lib/store/db.ts';
import { deleteRaftRun, latestRaftRun, loadRaftRun, saveRaftRun, type RaftRunRecord } from '../../src/lib/store/raft-runs.ts';
import type { EngineClient, Task } from '../../src/lib/worker/client.ts';
import type { RaftRequest, RequestKind, Requests } from '../../src/lib/worker/protocol.ts';
import { RaftPanelState } from '../../src/ui/raft/raft.svelte.ts';

const round = (n: number, mean: number): RaftRound => ({
  round: n,
  mean,
  max: 1,
  samples: [{ prompt: 0, answer: ' it was', reward: 1 }, { prompt: 1, answer: ' no', reward: 0 }],
  kept: [{ prompt: 0, answer: ' it was', reward: 1 }],
  trainLoss: 0.5,
});

const request = (runId: string): RaftRequest => ({
  runId,
  method: defaultMethod('LORA'),
  config: { ...defaultTrainConfig('LORA'), learning_rate: 0.02, warmup_steps: 0, seed: 3 },
  prompts: [{ prompt: 'The jury said', reference: null }, { prompt: 'In the morning', reference: ' it rained' }],
  settings: { ...RAFT_DEFAULTS, k: 2, rounds: 3, keep: 'best', seed: 3 },
  reward: { kind: 'rule', spec: 'contains: was' },
  adapterName: 'RAFT 2026-12-02 06:00',
  resume: false,
});

/** A version-3 database as an earlier page left it: an adapter's metadata in it. */
function openVersion3(): Promise<void> {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(DB_NAME, 3);
    r.onupgradeneeded = () => {
      for (const [name, keyPath] of [['adapters', 'id'], ['adapterFiles', 'id'], ['checkpoints', 'runId'], ['preferences', 'id'], ['judgments', 'id'], ['models', 'id']]) {
        const store = r.result.createObjectStore(name, { keyPath });
        if (name === 'adapters') store.put({ id: 'a-old', name: 'kept from version 3' });
      }
    };
    r.onsuccess = () => {
      r.result.close();
      resolve();
    };
    r.onerror = () => reject(r.error);
  });
}

describe('the kept RAFT run', () => {
  it('upgrades the database to version 4 with the raftRuns store, keeping version 3’s data', async () => {
    await openVersion3();
    const db = await openDatabase();
    expect(db.version).toBe(DB_VERSION);
    expect(DB_VERSION).toBe(4);
    expect([...db.objectStoreNames]).toContain(STORES.raftRuns);
    const old = await new Promise((resolve) => {
      const g = db.transaction('adapters').objectStore('adapters').get('a-old');
      g.onsuccess = () => resolve(g.result);
    });
    expect(old).toEqual({ id: 'a-old', name: 'kept from version 3' });
  });

  it('round-trips a run’s request and rounds; a new run replaces the older one; a finished run is forgotten', async () => {
    const first: RaftRunRecord<RaftRequest> = { runId: 'raft-1', savedAt: 1, request: request('raft-1'), rounds: [round(0, 0.25)], adapterId: 'a1' };
    await saveRaftRun(first);
    await saveRaftRun({ ...first, savedAt: 2, rounds: [round(0, 0.25), round(1, 0.75)] });
    const back = await loadRaftRun<RaftRequest>('raft-1');
    expect(back).toEqual({ ...first, savedAt: 2, rounds: [round(0, 0.25), round(1, 0.75)] });
    await saveRaftRun({ runId: 'raft-2', savedAt: 3, request: request('raft-2'), rounds: [], adapterId: null });
    expect(await loadRaftRun('raft-1')).toBeNull();
    expect((await latestRaftRun())?.runId).toBe('raft-2');
    await deleteRaftRun('raft-2');
    expect(await latestRaftRun()).toBeNull();
  });

  it('comes back on a new page’s RAFT panel, stopped after its last round, and continues as the same run', async () => {
    await saveRaftRun({ runId: 'raft-7', savedAt: 7, request: request('raft-7'), rounds: [round(0, 0.25), round(1, 0.75)], adapterId: 'a7' });
    const sent: { kind: RequestKind; payload: unknown }[] = [];
    const client = {
      request<K extends RequestKind>(kind: K, payload: Requests[K]['payload']): Task<Requests[K]['result']> {
        sent.push({ kind, payload: structuredClone(payload) });
        return { id: 1, result: Promise.resolve({ status: 'finished', rounds: 4, adapterId: 'a7' }) as Promise<Requests[K]['result']>, cancel: () => {} };
      },
    } as unknown as EngineClient;
    const s = new RaftPanelState(client, () => []);
    await s.restored;
    expect(s.phase).toBe('stopped');
    expect(s.stage).toBe('An unfinished RAFT run from before the reload: stopped after round 1. Continue from round 2, or start a new run.');
    expect(s.finished.map((r) => r.mean)).toEqual([0.25, 0.75]);
    expect(s.meanSeries).toEqual([{ step: 0, loss: 0.25 }, { step: 1, loss: 0.75 }]);
    expect(s.adapterId).toBe('a7');
    // the panel's fields show the run's settings
    expect([s.k, s.rounds, s.keepMode, s.seed, s.learningRate, s.ruleSpec, s.rewardKind]).toEqual([2, 3, 'best', 3, 0.02, 'contains: was', 'rule']);
    expect(s.prompts.prompts).toEqual(request('raft-7').prompts);
    expect(s.problems).toEqual([]);
    await s.continue();
    expect(sent).toEqual([{ kind: 'raft', payload: { ...request('raft-7'), resume: true } }]);
    expect(s.phase).toBe('finished');
  });
});

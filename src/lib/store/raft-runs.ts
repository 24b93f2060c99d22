// The RAFT run the page can continue after a reload: its request (settings, prompts, reward, method,
// each round's SFT settings), its finished rounds — the RaftState's numbers the CLI's --resume keeps in
// raft.json — and the saved adapter that holds the policy after them (written by the worker after
// every finished round; the weights themselves stay in the adapter store, as "RAFT …"). One record
// per run; a new run replaces the older ones, and a finished run's record is deleted.

import type { RaftRound } from '../rewards/raft.ts';
import { done, STORES, transact } from './db.ts';

export interface RaftRunRecord<Request = unknown> {
  runId: string;
  savedAt: number;
  /** What the run was started with (the page's RaftRequest without `resume`). */
  request: Request;
  /** The finished rounds (sampling passes), in order. */
  rounds: RaftRound[];
  /** The saved adapter holding the policy after the last trained round (null before any). */
  adapterId: string | null;
}

/** Saves (replaces) the run's record and drops every other run's. */
export async function saveRaftRun(record: RaftRunRecord): Promise<void> {
  await transact([STORES.raftRuns], 'readwrite', async (tx) => {
    const store = tx.objectStore(STORES.raftRuns);
    const keys = (await done(store.getAllKeys())) as string[];
    for (const k of keys) if (k !== record.runId) store.delete(k);
    store.put(record);
  });
}

/** The run's record, or null. */
export async function loadRaftRun<R>(runId: string): Promise<RaftRunRecord<R> | null> {
  const rec = await transact([STORES.raftRuns], 'readonly', (tx) => done(tx.objectStore(STORES.raftRuns).get(runId)));
  return (rec as RaftRunRecord<R> | undefined) ?? null;
}

/** The newest unfinished run's record, or null when there is none. */
export async function latestRaftRun<R>(): Promise<RaftRunRecord<R> | null> {
  const all = (await transact([STORES.raftRuns], 'readonly', (tx) => done(tx.objectStore(STORES.raftRuns).getAll()))) as RaftRunRecord<R>[];
  return all.sort((a, b) => b.savedAt - a.savedAt)[0] ?? null;
}

/** Forgets a run (it finished, or a new run replaces it). */
export async function deleteRaftRun(runId: string): Promise<void> {
  await transact([STORES.raftRuns], 'readwrite', async (tx) => {
    tx.objectStore(STORES.raftRuns).delete(runId);
  });
}

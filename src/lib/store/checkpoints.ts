// Training checkpoints in IndexedDB: everything a run needs to continue after Stop, a lost GPU device
// or a reload — the trainable weights, the optimizer's state and step (the engine's checkpoint), the
// run's setup (data rows, method, hyper-parameters) and the loss curves so far. One record per run,
// overwritten by each newer checkpoint; only the newest few runs are kept.

import { done, STORES, transact } from './db.ts';

/** How many runs keep their checkpoint; older ones are dropped on save. */
export const KEPT_RUNS = 3;

export interface CheckpointRecord<State = unknown, Run = unknown, History = unknown> {
  runId: string;
  /** Optimizer steps taken when it was saved. */
  step: number;
  savedAt: number;
  /** The engine's checkpoint (structured-cloneable: typed arrays, plain objects). */
  state: State;
  /** What the run trains on and how, so Resume needs nothing else. */
  run: Run;
  /** Loss curves up to `step`. */
  history: History;
}

/** A checkpoint's description without its (large) contents. */
export interface CheckpointInfo {
  runId: string;
  step: number;
  savedAt: number;
}

/** Saves (replaces) the run's checkpoint and drops all but the KEPT_RUNS newest runs. */
export async function saveCheckpoint(record: CheckpointRecord): Promise<void> {
  await transact([STORES.checkpoints], 'readwrite', async (tx) => {
    const store = tx.objectStore(STORES.checkpoints);
    store.put(record);
    const infos = await checkpointInfos(store);
    const stale = infos.sort((a, b) => b.savedAt - a.savedAt).slice(KEPT_RUNS);
    for (const s of stale) if (s.runId !== record.runId) store.delete(s.runId);
  });
}

export async function loadCheckpoint<S, R, H>(runId: string): Promise<CheckpointRecord<S, R, H> | null> {
  const rec = await transact([STORES.checkpoints], 'readonly', (tx) => done(tx.objectStore(STORES.checkpoints).get(runId)));
  return (rec as CheckpointRecord<S, R, H> | undefined) ?? null;
}

/** Every kept checkpoint's description, newest first (used to offer Resume after a reload). */
export async function listCheckpoints(): Promise<CheckpointInfo[]> {
  const infos = await transact([STORES.checkpoints], 'readonly', (tx) => checkpointInfos(tx.objectStore(STORES.checkpoints)));
  return infos.sort((a, b) => b.savedAt - a.savedAt);
}

/** Forgets a run's checkpoint (it can no longer be resumed). */
export async function deleteCheckpoint(runId: string): Promise<void> {
  await transact([STORES.checkpoints], 'readwrite', async (tx) => {
    tx.objectStore(STORES.checkpoints).delete(runId);
  });
}

/** Walks the store with a cursor, keeping only each record's small fields. */
function checkpointInfos(store: IDBObjectStore): Promise<CheckpointInfo[]> {
  return new Promise((resolve, reject) => {
    const infos: CheckpointInfo[] = [];
    const request = store.openCursor();
    request.onsuccess = () => {
      const cursor = request.result;
      if (!cursor) return resolve(infos);
      const { runId, step, savedAt } = cursor.value as CheckpointRecord;
      infos.push({ runId, step, savedAt });
      cursor.continue();
    };
    request.onerror = () => reject(request.error);
  });
}

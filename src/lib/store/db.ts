// The app's IndexedDB database: saved adapters (their PEFT files), training checkpoints, the
// preference pairs and judgments the user clicked (compare verdicts, sample picks), made models and
// the RAFT run to continue after a reload. Works in
// the page and in the worker alike (both see the same origin's database), so the worker can write a
// checkpoint without sending the weights through the page, and the page can list and export adapters
// without asking the worker.
//
// Object stores (version 1):
//   adapters       AdapterMeta, key `id`: what the list shows (small)
//   adapterFiles   { id, configJson, weights }: adapter_config.json text + adapter_model.safetensors bytes
//   checkpoints    CheckpointRecord, key `runId`: the latest checkpoint of each training run
// Added in version 2 (an upgrade creates them and leaves the others as they are):
//   preferences    PreferenceRecord, key `id`: pairs {prompt, chosen, rejected} with what made them
//   judgments      Judgment, key `id`: every verdict given in the compare view (the win rate's data)
// Added in version 3:
//   models         ModelRecord, key `id`: models made in the page (New model), their Hugging Face folder's files
// Added in version 4:
//   raftRuns       RaftRunRecord, key `runId`: the RAFT run the page continues after a reload

export const DB_NAME = 'lora-playground';
export const DB_VERSION = 4;
export const STORES = {
  adapters: 'adapters',
  adapterFiles: 'adapterFiles',
  checkpoints: 'checkpoints',
  preferences: 'preferences',
  judgments: 'judgments',
  models: 'models',
  raftRuns: 'raftRuns',
} as const;
export type StoreName = (typeof STORES)[keyof typeof STORES];

export class StorageUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageUnavailableError';
  }
}

let opening: Promise<IDBDatabase> | null = null;

/** Opens (and on first use creates) the database; one connection per context, reused. */
export function openDatabase(): Promise<IDBDatabase> {
  if (opening) return opening;
  opening = new Promise<IDBDatabase>((resolve, reject) => {
    if (typeof indexedDB === 'undefined') {
      reject(new StorageUnavailableError('this browser has no IndexedDB: adapters and checkpoints cannot be kept'));
      return;
    }
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(STORES.adapters)) db.createObjectStore(STORES.adapters, { keyPath: 'id' });
      if (!db.objectStoreNames.contains(STORES.adapterFiles)) db.createObjectStore(STORES.adapterFiles, { keyPath: 'id' });
      if (!db.objectStoreNames.contains(STORES.checkpoints)) db.createObjectStore(STORES.checkpoints, { keyPath: 'runId' });
      if (!db.objectStoreNames.contains(STORES.preferences)) db.createObjectStore(STORES.preferences, { keyPath: 'id' });
      if (!db.objectStoreNames.contains(STORES.judgments)) db.createObjectStore(STORES.judgments, { keyPath: 'id' });
      if (!db.objectStoreNames.contains(STORES.models)) db.createObjectStore(STORES.models, { keyPath: 'id' });
      if (!db.objectStoreNames.contains(STORES.raftRuns)) db.createObjectStore(STORES.raftRuns, { keyPath: 'runId' });
    };
    request.onsuccess = () => {
      const db = request.result;
      // Another tab upgrading the schema: let it, and reopen next time.
      db.onversionchange = () => {
        db.close();
        opening = null;
      };
      resolve(db);
    };
    request.onerror = () => reject(describeError(request.error, 'could not open the adapter database'));
    request.onblocked = () => reject(new StorageUnavailableError('the adapter database is blocked by another tab of this app: close it and retry'));
  });
  opening.catch(() => (opening = null));
  return opening;
}

/** Turns a DOMException from IndexedDB into an Error a person can act on (quota above all). */
export function describeError(error: DOMException | null, what: string): Error {
  if (error?.name === 'QuotaExceededError') {
    return new StorageUnavailableError(`${what}: the browser's storage quota for this site is full; delete some adapters`);
  }
  return new StorageUnavailableError(`${what}: ${error?.message || error?.name || 'unknown IndexedDB error'}`);
}

/** The result of one IDBRequest. */
export function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(describeError(request.error, 'storage request failed'));
  });
}

/**
 * Runs `body` in one transaction over `stores` and resolves when the transaction has committed (not
 * merely when its requests succeeded), so a resolved write is on disk as far as the browser promises.
 */
export async function transact<T>(
  stores: StoreName[],
  mode: IDBTransactionMode,
  body: (tx: IDBTransaction) => Promise<T> | T,
): Promise<T> {
  const db = await openDatabase();
  const tx = db.transaction(stores, mode, { durability: 'strict' });
  const committed = new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(describeError(tx.error, 'storage transaction aborted'));
    tx.onerror = () => reject(describeError(tx.error, 'storage transaction failed'));
  });
  let result: T;
  try {
    result = await body(tx);
  } catch (err) {
    try {
      tx.abort();
    } catch {
      // already finished
    }
    await committed.catch(() => undefined);
    throw err;
  }
  await committed;
  return result;
}

// Asking the browser to keep this site's storage (navigator.storage.persist()): without it, saved
// adapters are "best effort" and may be evicted when the disk runs low. The page shows the answer.

export interface PersistenceState {
  /** The browser has the StorageManager API at all. */
  supported: boolean;
  /** Storage is persistent (granted now or earlier). */
  persisted: boolean;
  /** Bytes this site uses and may use, when the browser says. */
  usage: number | null;
  quota: number | null;
}

/** Asks for persistent storage (once granted, the browser remembers) and reports where things stand. */
export async function requestPersistence(storage: StorageManager | undefined = globalThis.navigator?.storage): Promise<PersistenceState> {
  if (!storage || typeof storage.persisted !== 'function') return { supported: false, persisted: false, usage: null, quota: null };
  let persisted = await storage.persisted();
  // persist() exists only in windows (not in workers); Chromium grants it from site engagement,
  // Firefox asks the user.
  if (!persisted && typeof storage.persist === 'function') persisted = await storage.persist();
  return { supported: true, persisted, ...(await storageUsage(storage)) };
}

/** Bytes this site uses and may use now (each null when the browser does not say): re-read after every save. */
export async function storageUsage(
  storage: StorageManager | undefined = globalThis.navigator?.storage,
): Promise<Pick<PersistenceState, 'usage' | 'quota'>> {
  if (!storage || typeof storage.estimate !== 'function') return { usage: null, quota: null };
  const e = await storage.estimate();
  return { usage: e.usage ?? null, quota: e.quota ?? null };
}

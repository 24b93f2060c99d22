// What the adapter list says about storage: persistent or not (asked once), and the bytes used now.

import { describe, expect, it } from 'vitest';
import { requestPersistence, storageUsage } from '../../src/lib/store/persist.ts';

/** A StorageManager stand-in whose usage grows as the test saves things. */
function fakeStorage(persisted: boolean, grants: boolean) {
  const calls: string[] = [];
  let usage = 1000;
  const storage = {
    persisted: async () => (calls.push('persisted'), persisted),
    persist: async () => (calls.push('persist'), (persisted = grants)),
    estimate: async () => (calls.push('estimate'), { usage, quota: 10_000_000 }),
  } as unknown as StorageManager;
  return { storage, calls, save: (bytes: number) => (usage += bytes) };
}

describe('storage', () => {
  it('asks for persistence only when not yet persistent, and reports usage and quota', async () => {
    const a = fakeStorage(false, true);
    expect(await requestPersistence(a.storage)).toEqual({ supported: true, persisted: true, usage: 1000, quota: 10_000_000 });
    expect(a.calls).toEqual(['persisted', 'persist', 'estimate']);
    const b = fakeStorage(true, true);
    await requestPersistence(b.storage);
    expect(b.calls).not.toContain('persist');
  });

  it('re-reads the bytes used after a save, without asking for persistence again', async () => {
    const s = fakeStorage(false, false);
    await requestPersistence(s.storage);
    s.save(599_000);
    const calls = s.calls.length;
    expect(await storageUsage(s.storage)).toEqual({ usage: 600_000, quota: 10_000_000 });
    expect(s.calls.slice(calls)).toEqual(['estimate']);
  });

  it('says nothing it does not know', async () => {
    expect(await storageUsage(undefined)).toEqual({ usage: null, quota: null });
    expect(await requestPersistence(undefined)).toEqual({ supported: false, persisted: false, usage: null, quota: null });
  });
});

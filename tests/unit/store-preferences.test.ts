// The preference store (IndexedDB, here fake-indexeddb's in-memory implementation of the same API):
// verdicts keep a judgment and the pair they prefer, picks keep their pairs, edits are checked with the
// dataset loader's rules, deleting a pair leaves its judgment, and everything survives a new connection
// (a reload).

import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SAMPLING } from '../../src/lib/generate/sampling.ts';
import type { Answer, Generator } from '../../src/lib/feedback/verdicts.ts';
import { DB_NAME, openDatabase, STORES, transact } from '../../src/lib/store/db.ts';
import {
  addPreferences,
  deletePreference,
  editPreference,
  listJudgments,
  listPreferences,
  recordVerdict,
  swapPreference,
} from '../../src/lib/store/preferences.ts';

const base: Generator = { model: 'tiny', runtime: 'onnx', adapterId: null, adapterName: null, sampling: { ...DEFAULT_SAMPLING, seed: 7 }, chat: false };
const tuned: Generator = { ...base, runtime: 'engine', adapterId: 'a1', adapterName: 'pirate' };
const left: Answer = { text: ' It is warm.', by: base };
const right: Answer = { text: ' Arr, matey!', by: tuned };

beforeEach(async () => {
  await transact([STORES.preferences, STORES.judgments], 'readwrite', (tx) => {
    tx.objectStore(STORES.preferences).clear();
    tx.objectStore(STORES.judgments).clear();
  });
});

describe('preference store', () => {
  it('keeps a verdict that prefers a side as a judgment and a pair with what produced each answer', async () => {
    const r = await recordVerdict({ prompt: 'What is the sun?', left, right, verdict: 'right' }, 1000);
    expect(r.problem).toBeNull();
    expect(r.pair).toMatchObject({ prompt: 'What is the sun?', chosen: ' Arr, matey!', rejected: ' It is warm.', chosenBy: tuned, rejectedBy: base, source: 'compare', createdAt: 1000, edited: false });
    expect(r.judgment.pairId).toBe(r.pair!.id);
    expect(await listPreferences()).toEqual([r.pair]);
    expect(await listJudgments()).toEqual([r.judgment]);
  });

  it('keeps a tie and "both bad" as judgments only', async () => {
    await recordVerdict({ prompt: 'p', left, right, verdict: 'tie' }, 1);
    await recordVerdict({ prompt: 'p', left, right, verdict: 'both-bad' }, 2);
    expect(await listPreferences()).toEqual([]);
    expect((await listJudgments()).map((j) => [j.verdict, j.pairId])).toEqual([
      ['tie', null],
      ['both-bad', null],
    ]);
  });

  it('keeps the judgment but no pair when both sides wrote the same text, and says why', async () => {
    const r = await recordVerdict({ prompt: 'p', left, right: { ...right, text: left.text }, verdict: 'left' });
    expect(r.pair).toBeNull();
    expect(r.problem).toMatch(/same as chosen/);
    expect(await listPreferences()).toEqual([]);
    expect(await listJudgments()).toHaveLength(1);
  });

  it('swaps chosen and rejected together with their provenance, and marks the pair edited', async () => {
    const { pair } = await recordVerdict({ prompt: 'p', left, right, verdict: 'left' }, 1000);
    const swapped = await swapPreference(pair!.id, 2000);
    expect(swapped).toMatchObject({ chosen: right.text, rejected: left.text, chosenBy: tuned, rejectedBy: base, edited: true, createdAt: 1000, updatedAt: 2000 });
    expect(await listPreferences()).toEqual([swapped]);
  });

  it('saves edited text, and refuses an edit that makes a bad pair, keeping the pair as it was', async () => {
    const { pair } = await recordVerdict({ prompt: 'p', left, right, verdict: 'left' });
    const edited = await editPreference(pair!.id, { chosen: ' It is a star.' });
    expect(edited.chosen).toBe(' It is a star.');
    await expect(editPreference(pair!.id, { rejected: ' It is a star.' })).rejects.toThrow(/not saved: rejected is the same as chosen/);
    await expect(editPreference(pair!.id, { chosen: '   ' })).rejects.toThrow(/not saved: chosen is empty/);
    await expect(editPreference(pair!.id, { prompt: '' })).rejects.toThrow(/prompt is empty/);
    expect(await listPreferences()).toEqual([edited]);
  });

  it('deletes a pair and unlinks its judgment, which still counts', async () => {
    const { pair } = await recordVerdict({ prompt: 'p', left, right, verdict: 'right' });
    expect(await deletePreference(pair!.id)).toBe(true);
    expect(await deletePreference(pair!.id)).toBe(false);
    expect(await listPreferences()).toEqual([]);
    const [j] = await listJudgments();
    expect(j).toMatchObject({ verdict: 'right', pairId: null });
    await expect(swapPreference(pair!.id)).rejects.toThrow(/no longer kept/);
  });

  it('adds the pairs of a pick all or none, listed in the order given', async () => {
    const good = { prompt: 'p', chosen: ' a', rejected: ' b', chosenBy: tuned, rejectedBy: tuned, source: 'sample-pick' as const };
    await expect(addPreferences([good, { ...good, rejected: ' a' }])).rejects.toThrow(/cannot be kept: rejected is the same as chosen/);
    expect(await listPreferences()).toEqual([]);
    const kept = await addPreferences([good, { ...good, rejected: ' c' }, { ...good, rejected: ' d' }], 5);
    expect((await listPreferences()).map((p) => p.rejected)).toEqual([' b', ' c', ' d']);
    expect((await listPreferences()).map((p) => p.id)).toEqual(kept.map((p) => p.id));
  });

  it('lists pairs oldest first and keeps them across a new connection (a reload)', async () => {
    await recordVerdict({ prompt: 'second', left, right, verdict: 'left' }, 2000);
    await recordVerdict({ prompt: 'first', left, right, verdict: 'left' }, 1000);
    (await openDatabase()).close();
    // A fresh connection, as a reloaded page opens: the same database, the same pairs.
    const reopened = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open(DB_NAME);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const stored = await new Promise<unknown[]>((resolve, reject) => {
      const r = reopened.transaction(STORES.preferences).objectStore(STORES.preferences).getAll();
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    reopened.close();
    expect(stored.map((p) => (p as { prompt: string }).prompt).sort()).toEqual(['first', 'second']);
  });
});

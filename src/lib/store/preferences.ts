// Preference pairs and judgments, kept in IndexedDB across reloads (db.ts's `preferences` and
// `judgments` stores). A verdict writes its judgment and its pair (if it makes one) in one
// transaction; edits are checked with the same rules the dataset loader applies, so the store never
// holds a pair its own export would have refused.

import { type Judgment, type NewPair, pairProblem, type PreferenceRecord, type Verdict, type Answer, verdictPair } from '../feedback/verdicts.ts';
import { newId } from './adapters.ts';
import { done, STORES, transact } from './db.ts';

const byCreation = (a: PreferenceRecord, b: PreferenceRecord) => a.createdAt - b.createdAt || a.id.localeCompare(b.id);

/** Every kept pair, oldest first (the order export writes them in). */
export async function listPreferences(): Promise<PreferenceRecord[]> {
  const all = await transact([STORES.preferences], 'readonly', (tx) => done(tx.objectStore(STORES.preferences).getAll()));
  return (all as PreferenceRecord[]).sort(byCreation);
}

/** Every judgment, oldest first. */
export async function listJudgments(): Promise<Judgment[]> {
  const all = await transact([STORES.judgments], 'readonly', (tx) => done(tx.objectStore(STORES.judgments).getAll()));
  return (all as Judgment[]).sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
}

function record(pair: NewPair, now: number, id = newId()): PreferenceRecord {
  return { ...pair, id, createdAt: now, updatedAt: now, edited: false };
}

/**
 * Keeps a verdict: its judgment, and the pair it prefers (left or right better) unless the two answers
 * cannot make one (`problem` says why; the judgment is kept all the same).
 */
export async function recordVerdict(
  input: { prompt: string; left: Answer; right: Answer; verdict: Verdict },
  now = Date.now(),
): Promise<{ judgment: Judgment; pair: PreferenceRecord | null; problem: string | null }> {
  const made = verdictPair(input.prompt, input.left, input.right, input.verdict);
  const pair = made.pair ? record(made.pair, now) : null;
  const judgment: Judgment = { id: newId(), prompt: input.prompt, verdict: input.verdict, left: input.left, right: input.right, pairId: pair?.id ?? null, at: now };
  await transact([STORES.preferences, STORES.judgments], 'readwrite', (tx) => {
    if (pair) tx.objectStore(STORES.preferences).put(pair);
    tx.objectStore(STORES.judgments).put(judgment);
  });
  return { judgment, pair, problem: made.problem };
}

/** Keeps new pairs (a pick among samples), all or none; each is checked first. */
export async function addPreferences(pairs: NewPair[], now = Date.now()): Promise<PreferenceRecord[]> {
  for (const p of pairs) {
    const problem = pairProblem(p.prompt, p.chosen, p.rejected);
    if (problem) throw new Error(`this pair cannot be kept: ${problem}`);
  }
  // A millisecond apart, so the list (oldest first) keeps them in the order given (the samples' order).
  const records = pairs.map((p, i) => record(p, now + i));
  await transact([STORES.preferences], 'readwrite', (tx) => {
    for (const r of records) tx.objectStore(STORES.preferences).put(r);
  });
  return records;
}

/** Changes one pair (edited text, or chosen and rejected swapped); throws the reason it would be a bad pair. */
async function changePair(id: string, change: (p: PreferenceRecord) => Pick<PreferenceRecord, 'prompt' | 'chosen' | 'rejected' | 'chosenBy' | 'rejectedBy'>, now: number): Promise<PreferenceRecord> {
  return transact([STORES.preferences], 'readwrite', async (tx) => {
    const store = tx.objectStore(STORES.preferences);
    const old = (await done(store.get(id))) as PreferenceRecord | undefined;
    if (!old) throw new Error('this pair is no longer kept (it may have been deleted in another tab)');
    const next = change(old);
    const problem = pairProblem(next.prompt, next.chosen, next.rejected);
    if (problem) throw new Error(`not saved: ${problem}`);
    const updated: PreferenceRecord = { ...old, ...next, updatedAt: now, edited: true };
    store.put(updated);
    return updated;
  });
}

/** New text for a pair's prompt, chosen or rejected answer. */
export function editPreference(id: string, text: Partial<Pick<PreferenceRecord, 'prompt' | 'chosen' | 'rejected'>>, now = Date.now()): Promise<PreferenceRecord> {
  return changePair(
    id,
    (p) => ({ prompt: text.prompt ?? p.prompt, chosen: text.chosen ?? p.chosen, rejected: text.rejected ?? p.rejected, chosenBy: p.chosenBy, rejectedBy: p.rejectedBy }),
    now,
  );
}

/** Chosen becomes rejected and rejected chosen (with what produced each). */
export function swapPreference(id: string, now = Date.now()): Promise<PreferenceRecord> {
  return changePair(id, (p) => ({ prompt: p.prompt, chosen: p.rejected, rejected: p.chosen, chosenBy: p.rejectedBy, rejectedBy: p.chosenBy }), now);
}

/**
 * Deletes a pair. The judgment that made it stays (the verdict still counts in the win rate) and no
 * longer points at it. Resolves false when there was no such pair.
 */
export async function deletePreference(id: string): Promise<boolean> {
  return transact([STORES.preferences, STORES.judgments], 'readwrite', async (tx) => {
    const had = (await done(tx.objectStore(STORES.preferences).count(id))) > 0;
    tx.objectStore(STORES.preferences).delete(id);
    const judgments = (await done(tx.objectStore(STORES.judgments).getAll())) as Judgment[];
    for (const j of judgments) if (j.pairId === id) tx.objectStore(STORES.judgments).put({ ...j, pairId: null });
    return had;
  });
}

// State of the preference screens: the pairs and judgments kept in IndexedDB (lib/store/preferences.ts),
// the verdict given on the last comparison, edits to the table, the TRL JSONL export, and "Use for
// DPO" — the pairs handed to the dataset screen as the file a drop would give (data/load.ts reads it),
// so the training screen is set for a preference run.

import { exportForm, preferencesFile, PREFERENCES_FILE } from '../../lib/feedback/export.ts';
import type { Answer, Judgment, NewPair, PreferenceRecord, Verdict } from '../../lib/feedback/verdicts.ts';
import { winRates, type WinRate } from '../../lib/feedback/winrate.ts';
import {
  addPreferences,
  deletePreference,
  editPreference,
  listJudgments,
  listPreferences,
  recordVerdict,
  swapPreference,
} from '../../lib/store/preferences.ts';
import type { EngineClient } from '../../lib/worker/client.ts';
import { download } from '../adapters/library.svelte.ts';
import { errorMessage } from '../format.ts';
import { SamplePickState } from './sample-pick.svelte.ts';

/** What the page does with a file of pairs: the dataset screen's open (the path a dropped file takes). */
export type OpenDataset = (file: { name: string; bytes: Uint8Array }) => Promise<void>;

/** The verdict given on one comparison, and what came of it. */
export interface GivenVerdict {
  /** The comparison (FinishedComparison.run) it was given on. */
  run: number;
  verdict: Verdict;
  /** The pair it made, or null. */
  pairId: string | null;
  /** Why a verdict that prefers a side made no pair. */
  problem: string | null;
}

export class PreferenceState {
  pairs = $state.raw<PreferenceRecord[]>([]);
  judgments = $state.raw<Judgment[]>([]);
  loaded = $state(false);
  /** Storage failed (no IndexedDB, quota) or an edit was refused: one line for the user. */
  error = $state<string | null>(null);
  /** What the last action did, in words ("3 pairs kept", "Loaded … as the dataset"). */
  notice = $state<string | null>(null);
  verdict = $state.raw<GivenVerdict | null>(null);
  busy = $state(false);

  readonly winRates = $derived.by((): WinRate[] => winRates(this.judgments));

  /** "Sample and pick" (its pairs come here). */
  readonly pick: SamplePickState;
  private readonly open: OpenDataset;

  constructor(client: EngineClient, open: OpenDataset) {
    this.pick = new SamplePickState(client);
    this.open = open;
  }

  /** Re-reads pairs and judgments from IndexedDB. */
  async refresh(): Promise<void> {
    try {
      [this.pairs, this.judgments] = await Promise.all([listPreferences(), listJudgments()]);
    } catch (err) {
      this.error = `The preference store could not be read: ${errorMessage(err)}`;
    } finally {
      this.loaded = true;
    }
  }

  /** Keeps the verdict on comparison `run` (once per comparison). */
  async judge(run: number, prompt: string, left: Answer, right: Answer, verdict: Verdict): Promise<void> {
    if (this.busy || this.verdict?.run === run) return;
    this.busy = true;
    this.error = null;
    try {
      const r = await recordVerdict({ prompt, left, right, verdict });
      this.verdict = { run, verdict, pairId: r.pair?.id ?? null, problem: r.problem };
      await this.refresh();
    } catch (err) {
      this.error = `The verdict was not kept: ${errorMessage(err)}`;
    } finally {
      this.busy = false;
    }
  }

  /** Keeps the pairs of a pick among samples. */
  async keepPairs(pairs: NewPair[]): Promise<boolean> {
    return this.act(async () => {
      await addPreferences(pairs);
      this.notice = `${pairs.length} pair${pairs.length === 1 ? '' : 's'} kept.`;
    }, 'The pairs were not kept');
  }

  edit(id: string, text: Partial<Pick<PreferenceRecord, 'prompt' | 'chosen' | 'rejected'>>): Promise<boolean> {
    return this.act(() => editPreference(id, text), 'The edit was not saved');
  }

  swap(id: string): Promise<boolean> {
    return this.act(() => swapPreference(id), 'The pair was not swapped');
  }

  remove(id: string): Promise<boolean> {
    return this.act(() => deletePreference(id), 'The pair was not deleted');
  }

  /** The pairs as a TRL JSONL download. */
  exportJsonl(): void {
    const file = preferencesFile(this.pairs);
    download(file.name, file.bytes, 'application/jsonl');
    this.notice = `Exported ${this.pairs.length} pair${this.pairs.length === 1 ? '' : 's'} as ${file.name}${this.formWords()}.`;
  }

  /** How the file writes the pairs, when it matters: conversations, or chat pairs flattened to text. */
  private formWords(): string {
    const { form, chatAsText } = exportForm(this.pairs);
    if (form === 'conversational') return ' (as conversations: they were generated with the chat template)';
    if (chatAsText > 0) return ` (all as text: a file holds one form, and ${chatAsText} of them were generated with the chat template)`;
    return '';
  }

  /** Loads the pairs as the current dataset, through the dataset screen, for a DPO run. */
  async useForDpo(): Promise<void> {
    if (this.pairs.length === 0) return;
    const n = this.pairs.length;
    await this.act(async () => {
      await this.open(preferencesFile(this.pairs));
      this.notice = `Loaded ${n} pair${n === 1 ? '' : 's'} as the dataset (${PREFERENCES_FILE}${this.formWords()}): the training screen trains on them with a preference objective (DPO).`;
    }, 'The pairs could not be loaded as the dataset');
  }

  /** Runs a store action, then re-reads the store; false (and `error` set) when it failed. */
  private async act(body: () => Promise<unknown>, failed: string): Promise<boolean> {
    this.busy = true;
    this.error = null;
    this.notice = null;
    try {
      await body();
      return true;
    } catch (err) {
      this.error = `${failed}: ${errorMessage(err)}`;
      return false;
    } finally {
      await this.refresh();
      this.busy = false;
    }
  }
}

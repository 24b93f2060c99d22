// Forgetting, measured on the page: the general text (the built-in Brown slice the shipped model never
// saw, pretrain/general.ts) packed by the loaded model's tokenizer and handed to each fresh run, whose
// loss on it the run loop measures before and after training; and the runs side by side (method,
// trainable parameters, task loss, general-text perplexity before → after) from the runs the page
// keeps (their checkpoint records, train/run.ts EarlierRun).

import { describeMethod } from '../../lib/adapters/config.ts';
import type { PackedRows } from '../../lib/data/pack.ts';
import type { TextTokenizer } from '../../lib/data/tokenize.ts';
import { BROWN_HELDOUT_PATH, generalTextRows, perplexity } from '../../lib/pretrain/general.ts';
import type { EarlierRun } from './run.ts';

export interface LossChange {
  before: number;
  after: number;
}

/** "task loss 0.12 (was 5.6) · general text ppl 142 (was 90)": what a run learnt next to what it forgot ('' when neither is known). */
export function forgettingLine(task: LossChange | null, general: LossChange | null): string {
  const parts: string[] = [];
  if (task) parts.push(`task loss ${task.after.toFixed(3)} (was ${task.before.toFixed(3)})`);
  if (general) parts.push(`general text ppl ${perplexity(general.after).toFixed(1)} (was ${perplexity(general.before).toFixed(1)})`);
  return parts.join(' · ');
}

/** One run in the Forgetting view. */
export interface ForgettingRow {
  runId: string;
  name: string;
  method: string;
  trainableParams: number | null;
  steps: number;
  task: LossChange | null;
  /** Perplexities (not losses) before and after, and after / before. */
  generalPpl: { before: number; after: number; ratio: number } | null;
}

export function forgettingRow(run: EarlierRun): ForgettingRow {
  const g = run.generalLoss ?? null;
  const before = g ? perplexity(g.before) : 0;
  const after = g ? perplexity(g.after) : 0;
  return {
    runId: run.runId,
    name: run.adapterName,
    method: describeMethod(run.plan.method),
    trainableParams: run.trainableParams ?? null,
    steps: run.step,
    task: run.taskLoss ?? null,
    generalPpl: g ? { before, after, ratio: after / before } : null,
  };
}

/** Whether fresh runs measure the general text, and its rows for a run's sequence length. */
export class ForgettingState {
  /**
   * On by default: every run reports what it forgot next to what it learnt (issue 10). Two passes over
   * 4,096 tokens take a second or two on a GPU and about a minute on a CPU's WebGPU (SwiftShader), so
   * the panel says so and the user can untick it.
   */
  measure = $state(true);
  /** Why the last run could not measure it, in words (null when it could, or did not try). */
  problem = $state<string | null>(null);

  private text: Promise<string> | null = null;
  private readonly tokenizer: () => TextTokenizer | null;
  private readonly fetchText: () => Promise<string>;

  constructor(tokenizer: () => TextTokenizer | null, fetchText?: () => Promise<string>) {
    this.tokenizer = tokenizer;
    this.fetchText =
      fetchText ??
      (async () => {
        const r = await fetch(new URL(BROWN_HELDOUT_PATH, document.baseURI));
        if (!r.ok) throw new Error(`the built-in general text (${BROWN_HELDOUT_PATH}) could not be read: HTTP ${r.status}`);
        return r.text();
      });
  }

  /** The general text packed into rows of T for a fresh run, or null when not measured (or it cannot be). */
  async rows(T: number): Promise<PackedRows | null> {
    this.problem = null;
    if (!this.measure) return null;
    const tok = this.tokenizer();
    if (!tok) {
      this.problem = 'the model’s tokenizer has not loaded, so the general text was not measured';
      return null;
    }
    try {
      this.text ??= this.fetchText();
      return generalTextRows(await this.text, tok, T);
    } catch (e) {
      this.text = null;
      this.problem = `the general text was not measured: ${(e as Error).message}`;
      return null;
    }
  }
}

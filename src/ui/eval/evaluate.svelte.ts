// State of the Evaluate panel: which test set (the loaded dataset's held-out split, or a file the user
// gives), which columns (the base, saved adapters, the base with k shots), how prompts are written
// (chat template, system prompt); the examples prepared for every column exactly as the worker will
// evaluate them (src/lib/eval/prepare.ts, the command line's code), the run one column after another
// in the worker, its progress and cancellation, the per-example table sorted by the change between
// the base and a tuned column, and predictions.jsonl.

import { describeProblem, type Example, type ParsedDataset } from '../../lib/data';
import { asSource } from '../../lib/data/load.ts';
import { parseDatasetFile } from '../../lib/data/parse.ts';
import type { ChatTemplateFn } from '../../lib/data/templates.ts';
import type { TextTokenizer } from '../../lib/data/tokenize.ts';
import type { EvalRow } from '../../lib/eval/evaluate.ts';
import { columnName, type EvalColumn, predictionLines } from '../../lib/eval/predictions.ts';
import { prepareColumn, type PreparedColumn } from '../../lib/eval/prepare.ts';
import type { PromptStyle } from '../../lib/eval/prompting.ts';
import type { ShotPick } from '../../lib/eval/shots.ts';
import type { EngineClient, Task } from '../../lib/worker/client.ts';
import type { EvalOutcome } from '../../lib/eval/evaluate.ts';
import { errorMessage } from '../format.ts';

/** What the panel reads from the rest of the page. */
export interface EvalInputs {
  /** the loaded dataset's split: the held-out examples and the training examples shots come from */
  split: { name: string; train: readonly Example[]; validation: readonly Example[] } | null;
  /** the loaded model's tokenizer and chat template, and how many positions it takes */
  tokenizer: { tokenizer: TextTokenizer; chatTemplate: ChatTemplateFn | null; maxPositions: number } | null;
  /** saved adapters that can be columns */
  adapters: readonly { id: string; name: string }[];
}

export type TestSource = 'held-out' | 'file';

/** One column to evaluate: its name, the saved adapter attached (null: the base) and its items. */
export interface PlannedColumn {
  name: string;
  adapterId: string | null;
  adapterName: string | null;
  shots: number;
  prepared: PreparedColumn;
}

/** Which numbers the table sorts by: the change (tuned − base) of this metric in this column. */
export type SortMetric = 'loss' | 'tokenAccuracy' | 'chrF';

/** The table's examples in display order: their index and the change that sorted them (null in file order). */
export interface TableRow {
  index: number;
  delta: number | null;
}

export class EvalState {
  source = $state<TestSource>('held-out');
  /** The file given as the test set (parsed by the page's data layer). */
  file = $state.raw<ParsedDataset | null>(null);
  fileError = $state<string | null>(null);
  /** Examples evaluated: the first this many of the test set. */
  limit = $state(20);

  includeBase = $state(true);
  /** Saved adapters chosen as columns, by id. */
  adapterIds = $state<string[]>([]);
  /** The base with k solved training examples in front of each prompt. */
  shotsOn = $state(false);
  k = $state(3);
  pick = $state<ShotPick>('random');
  seed = $state(0);
  chat = $state(false);
  system = $state('');
  /** Greedy tokens per example (0: no generation, no text scores). */
  maxNewTokens = $state(32);

  running = $state(false);
  /** The column being evaluated (its position and name) and its examples done. */
  progress = $state.raw<{ column: number; columns: number; name: string; done: number; total: number } | null>(null);
  error = $state<string | null>(null);
  notice = $state<string | null>(null);
  /** The last run's columns (the base first when it ran). */
  results = $state.raw<EvalColumn[]>([]);

  /** The tuned column the table is sorted by (its change from the base column); null: the test set's order. */
  sortColumn = $state<string | null>(null);
  sortMetric = $state<SortMetric>('loss');
  /** Largest change first. */
  sortDescending = $state(true);

  /** The example the prompt view shows (0-based in the test set). */
  viewIndex = $state(0);

  private readonly client: EngineClient | null;
  private readonly inputs: () => EvalInputs;
  private task: Task<EvalOutcome> | null = null;
  private stopped = false;

  constructor(client: EngineClient | null, inputs: () => EvalInputs) {
    this.client = client;
    this.inputs = inputs;
  }

  /** The test set: the held-out split, or the file's examples; the first `limit`. */
  readonly testSet = $derived.by((): { name: string; examples: Example[]; total: number } | null => {
    const all = this.source === 'held-out' ? (this.inputs().split?.validation ?? null) : (this.file?.examples ?? null);
    if (!all) return null;
    const name = this.source === 'held-out' ? `${this.inputs().split?.name ?? 'dataset'} (held-out split)` : (this.file?.file ?? '');
    const n = Math.max(1, Math.floor(this.limit) || 1);
    return { name, examples: all.slice(0, n), total: all.length };
  });

  /** Where shots come from: the dataset's training split when it is in the test set's format, else the test set's other examples. */
  readonly shotPool = $derived.by((): Example[] => {
    const test = this.testSet;
    if (!test?.examples.length) return [];
    const train = this.inputs().split?.train ?? [];
    const format = test.examples[0].format;
    if (train.length && train[0].format === format) return train.slice();
    return this.source === 'file' ? (this.file?.examples ?? []).slice() : [];
  });

  /** Every reason the evaluation cannot start ([] when it can). */
  readonly blockers = $derived.by((): string[] => {
    const r: string[] = [];
    const { tokenizer } = this.inputs();
    if (!tokenizer) r.push('load a model');
    const test = this.testSet;
    if (!test) r.push(this.source === 'held-out' ? 'load a dataset: its held-out split is the test set' : 'choose a test file');
    else if (test.examples.length === 0) r.push(this.source === 'held-out' ? 'the dataset has no held-out example' : 'the test file has no example');
    if (!this.includeBase && this.adapterIds.length === 0 && !this.shotsOn) r.push('choose at least one column');
    if (this.shotsOn && test?.examples.length && this.shotPool.length === 0) r.push('no training examples in the test set’s format to take shots from');
    if (this.chat && tokenizer && !tokenizer.chatTemplate) r.push('this model has no chat template: turn the chat template off');
    return r;
  });

  /** The columns the run evaluates, each with its examples prepared (or the reason it cannot be). */
  readonly planned = $derived.by((): { columns: PlannedColumn[]; error: string | null } => {
    const { tokenizer, adapters } = this.inputs();
    const test = this.testSet;
    if (!tokenizer || !test?.examples.length || this.blockers.length) return { columns: [], error: null };
    const prompt: PromptStyle = { chat: this.chat, system: this.system };
    const opts = { chatTemplate: tokenizer.chatTemplate, maxPositions: tokenizer.maxPositions, prompt };
    try {
      const zero = prepareColumn(test.examples, [], tokenizer.tokenizer, { ...opts, shots: null });
      if (zero.problems.length) return { columns: [], error: `${zero.problems.length} example${zero.problems.length === 1 ? '' : 's'} cannot be evaluated: ${zero.problems[0]}` };
      const columns: PlannedColumn[] = [];
      const add = (name: string, adapterId: string | null, adapterName: string | null, shots: number, prepared: PreparedColumn) =>
        columns.push({ name: columnName(name, columns.map((c) => c.name)), adapterId, adapterName, shots, prepared });
      if (this.includeBase) add('base', null, null, 0, zero);
      for (const id of this.adapterIds) {
        const a = adapters.find((x) => x.id === id);
        if (a) add(a.name, a.id, a.name, 0, zero);
      }
      if (this.shotsOn) {
        const k = Math.max(1, Math.floor(this.k) || 1);
        const shot = prepareColumn(test.examples, this.shotPool, tokenizer.tokenizer, { ...opts, shots: { k, pick: this.pick, seed: this.seed } });
        add(`${k}-shot base`, null, null, k, shot);
      }
      return { columns, error: null };
    } catch (e) {
      return { columns: [], error: errorMessage(e) };
    }
  });

  /** What the prompt view shows for `viewIndex`: each column's prompt as the model sees it, and the answer. */
  readonly promptView = $derived.by(() => {
    const cols = this.planned.columns;
    const seen = new Set<string>();
    const prompts: { name: string; prompt: string; tokens: number; shots: number }[] = [];
    for (const c of cols) {
      const item = c.prepared.items[this.viewIndex];
      if (!item) continue;
      const text = item.prompt ?? '';
      if (seen.has(text)) continue; // the base and adapters see the same prompt
      seen.add(text);
      prompts.push({ name: c.shots ? c.name : 'base and adapters', prompt: text, tokens: item.promptIds?.length ?? 0, shots: item.shots });
    }
    const first = cols[0]?.prepared.items[this.viewIndex];
    return { prompts, reference: first?.reference ?? null, examples: this.testSet?.examples.length ?? 0 };
  });

  /** Reads a file the user gave as the test set. */
  async openFile(file: File | { name: string; bytes: Uint8Array }): Promise<void> {
    this.fileError = null;
    try {
      const parsed = await parseDatasetFile(asSource(file as File));
      const fileProblem = parsed.problems.find((p) => p.severity === 'error' && p.where.unit === 'file');
      if (fileProblem) throw new Error(fileProblem.message);
      if (parsed.format === 'preference') throw new Error('it holds preference pairs; evaluation scores prompts with one answer ({prompt, completion}, messages, alpaca or text)');
      if (parsed.examples.length === 0) throw new Error(parsed.problems[0] ? `no usable example (${describeProblem(parsed.problems[0])})` : 'no usable example');
      this.file = parsed;
      this.source = 'file';
      this.viewIndex = 0;
      this.notice = parsed.badRecords ? `${parsed.badRecords} bad record${parsed.badRecords === 1 ? '' : 's'} of ${parsed.file} left out (${describeProblem(parsed.problems.find((p) => p.severity === 'error')!)})` : null;
    } catch (e) {
      this.fileError = `Cannot use ${file.name} as the test set: ${errorMessage(e)}`;
    }
  }

  /** Evaluates every planned column, one after another, in the worker. */
  async run(): Promise<void> {
    if (this.running || !this.client) return;
    const { columns, error } = this.planned;
    if (error || this.blockers.length || !columns.length) {
      this.error = error ?? this.blockers[0] ?? 'nothing to evaluate';
      return;
    }
    this.running = true;
    this.stopped = false;
    this.error = null;
    this.notice = null;
    this.results = [];
    const done: EvalColumn[] = [];
    const maxNewTokens = Math.max(0, Math.floor(this.maxNewTokens) || 0);
    try {
      for (const [i, c] of columns.entries()) {
        const total = c.prepared.items.length;
        this.progress = { column: i, columns: columns.length, name: c.name, done: 0, total };
        const task = this.client.request('evaluateExamples', { adapterId: c.adapterId, items: c.prepared.items, maxNewTokens }, (event) => {
          if (event.type === 'evalRow' && this.task === task) this.progress = { column: i, columns: columns.length, name: c.name, done: event.done, total: event.total };
        });
        this.task = task;
        const outcome = await task.result;
        if (this.stopped) break;
        done.push({ name: c.name, adapter: c.adapterName, shots: c.shots, heldOut: null, ...outcome });
        this.results = done.slice();
      }
      if (this.stopped) this.notice = `Cancelled: ${done.length} of ${columns.length} column${columns.length === 1 ? '' : 's'} evaluated.`;
    } catch (e) {
      if (this.stopped) this.notice = `Cancelled: ${done.length} of ${columns.length} column${columns.length === 1 ? '' : 's'} evaluated.`;
      else this.error = `Evaluating ${this.progress?.name ?? ''} failed: ${errorMessage(e)}`;
    } finally {
      this.task = null;
      this.running = false;
      this.progress = null;
    }
    if (!this.sortColumn || !this.results.some((c) => c.name === this.sortColumn)) this.sortColumn = null;
  }

  /** Stops the run between two examples; the columns finished so far stay. */
  cancel(): void {
    if (!this.running) return;
    this.stopped = true;
    this.task?.cancel();
  }

  /** The column the changes are measured from: the base (zero-shot) when it ran, else the first. */
  get baseColumn(): EvalColumn | null {
    return this.results.find((c) => c.adapter === null && c.shots === 0) ?? this.results[0] ?? null;
  }

  /** The columns a sort can measure against the base column. */
  get tunedColumns(): EvalColumn[] {
    const b = this.baseColumn;
    return this.results.filter((c) => c !== b);
  }

  /** A row's change in `metric` from the base column to `column`; null where either has none. */
  delta(column: EvalColumn, index: number, metric: SortMetric = this.sortMetric): number | null {
    const b = this.baseColumn;
    if (!b || b === column) return null;
    const x = column.rows[index]?.[metric];
    const y = b.rows[index]?.[metric];
    if (x === null || y === null || x === undefined || y === undefined || !Number.isFinite(x) || !Number.isFinite(y)) return null;
    return x - y;
  }

  /** The examples in table order: by the chosen change (largest first, or smallest), rows without one last. */
  get tableRows(): TableRow[] {
    const first = this.results[0];
    if (!first) return [];
    const col = this.results.find((c) => c.name === this.sortColumn);
    const rows = first.rows.map((_: EvalRow, index: number) => ({ index, delta: col ? this.delta(col, index) : null }));
    if (!col) return rows;
    const sign = this.sortDescending ? -1 : 1;
    return rows.sort((a, b) => {
      if (a.delta === null || b.delta === null) return (a.delta === null ? 1 : 0) - (b.delta === null ? 1 : 0) || a.index - b.index;
      return sign * (a.delta - b.delta) || a.index - b.index;
    });
  }

  /** predictions.jsonl: the command line's --out lines for the finished columns. */
  predictionsJsonl(): string {
    return predictionLines(this.results).join('\n') + '\n';
  }
}

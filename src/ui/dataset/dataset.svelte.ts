// State of the dataset screen: which files (or built-in sample) the user gave, reading them (progress,
// cancel), their problems and the "skip bad records" choice, and the prepared preview (tokenized with
// the loaded model's tokenizer, packed at the current max sequence length).

import {
  type DatasetSource,
  describeProblem,
  PrepareError,
  type PreparedData,
  prepareTraining,
  type SampleDataset,
  sampleUrl,
  type TokenizedExample,
} from '../../lib/data';
import { badRecordCount, datasetName, filesReadiness, loadDatasetFiles, type LoadedFiles } from '../../lib/data/load.ts';
import type { ObjectiveType } from '../../lib/train/objective.ts';
import type { PageTokenizer } from './page-tokenizer.ts';
import { pageReasons } from './names.ts';
import { viewPairs, type PairView } from './pairs.ts';
import { repackPrepared } from './repack.ts';
import { suggestForPrepared, type LengthSuggestion } from './seq-len.ts';
import { errorMessage } from '../format.ts';

export type ReadPhase = 'empty' | 'reading' | 'ready';

const isAbort = (e: unknown) => e instanceof DOMException && e.name === 'AbortError';

export class DatasetState {
  // Reading files.
  phase = $state<ReadPhase>('empty');
  /** 0..1 over all files being read. */
  readProgress = $state(0);
  readingFile = $state('');
  files = $state.raw<LoadedFiles | null>(null);
  /** The built-in sample the files came from, if any. */
  sample = $state.raw<SampleDataset | null>(null);
  /** A sample that could not be fetched, a cancelled read, files refused: one line for the user. */
  notice = $state<string | null>(null);
  /**
   * Files read while a dataset was ready that held no usable example: refused, so the ready dataset
   * stays (`notice` says so) and their problems are shown apart.
   */
  rejected = $state.raw<LoadedFiles | null>(null);
  /** The user chose to train on the good records and leave the bad ones out. */
  skipBad = $state(false);

  // The model's tokenizer (set by PlaygroundState when a model loads).
  tokenizer = $state.raw<PageTokenizer | null>(null);
  tokenizerPhase = $state<'idle' | 'loading' | 'ready' | 'error'>('idle');
  tokenizerError = $state<string | null>(null);

  // Preparing (render, tokenize, pack).
  preparing = $state(false);
  prepareProgress = $state(0);
  /** prepareTraining's output at the sequence length it ran with; `prepared` follows the current one. */
  basePrepared = $state.raw<PreparedData | null>(null);
  prepareError = $state<string | null>(null);

  /** Which example the token view shows (0-based over train, then validation examples). */
  viewIndex = $state(0);

  /** The prepared data packed at the current max sequence length (re-packing only, no re-tokenizing). */
  readonly prepared = $derived.by((): PreparedData | null => {
    const base = this.basePrepared;
    const tok = this.tokenizer;
    const T = this.seqLen();
    if (!base || !tok) return base;
    if (!Number.isInteger(T) || T < 8 || T > tok.config.maxPositions) return base;
    return repackPrepared(base, T, tok.tokenizer.padId);
  });

  /** A max sequence length that holds every example (null for packed text, or before preparing). */
  readonly lengthSuggestion = $derived.by((): LengthSuggestion | null =>
    this.tokenizer ? suggestForPrepared(this.basePrepared, this.tokenizer.config.maxPositions) : null,
  );

  /** Train examples, then validation examples, as the token view pages through them. */
  readonly viewExamples = $derived.by((): { example: TokenizedExample; split: 'train' | 'validation' }[] => {
    const p = this.prepared;
    if (!p) return [];
    return [
      ...p.train.examples.map((example) => ({ example, split: 'train' as const })),
      ...(p.validation?.examples ?? []).map((example) => ({ example, split: 'validation' as const })),
    ];
  });

  /** Preference pairs, train then validation, as the pair preview pages through them ([] for other data). */
  readonly viewPairs = $derived.by((): PairView[] =>
    viewPairs(this.prepared, [...(this.files?.train?.examples ?? []), ...(this.files?.validation?.examples ?? [])]),
  );

  /** Aborts the read in progress (files or a sample's fetch). */
  private controller: AbortController | null = null;
  /** Aborts the preparation in progress. */
  private prepareController: AbortController | null = null;
  private readonly seqLen: () => number;
  private readonly objective: () => ObjectiveType;

  /**
   * `seqLen` reads the current max sequence length (the method panel's), `objective` the objective
   * training would use (preference pairs are ready for DPO, SimPO and ORPO; other data for SFT).
   */
  constructor(seqLen: () => number, objective: () => ObjectiveType = () => 'sft') {
    this.seqLen = seqLen;
    this.objective = objective;
  }

  get busy(): boolean {
    return this.phase === 'reading' || this.preparing;
  }

  get name(): string {
    if (this.sample) return this.sample.title;
    return this.files ? datasetName(this.files) : '';
  }

  get badRecords(): number {
    return this.files ? badRecordCount(this.files) : 0;
  }

  /** Examples the preparation could not render (e.g. {messages} without a chat template). */
  get renderErrors(): number {
    return this.prepared?.problems.filter((p) => p.severity === 'error').length ?? 0;
  }

  /** Every reason training may not start on this dataset ([] when it may). */
  get readiness(): string[] {
    if (this.phase === 'reading') return ['the dataset is still being read'];
    if (!this.files) return ['choose a dataset: drop files or pick a sample'];
    const reasons = pageReasons(filesReadiness(this.files, this.skipBad, this.objective()));
    if (reasons.length) return reasons;
    if (this.tokenizerPhase !== 'ready') {
      return [this.tokenizerPhase === 'error' ? `the tokenizer did not load: ${this.tokenizerError}` : 'waiting for the model’s tokenizer'];
    }
    if (this.preparing) return ['the dataset is being tokenized'];
    if (this.prepareError) return [this.prepareError];
    if (!this.prepared) return ['the dataset is not prepared yet'];
    const n = this.renderErrors;
    if (n > 0 && !this.skipBad) return [`${n} example${n === 1 ? '' : 's'} cannot be rendered for training: skip ${n === 1 ? 'it' : 'them'} or fix the file`];
    return [];
  }

  /** Records left out of training because the user chose to skip them. */
  get skippedRecords(): number {
    return this.skipBad ? this.badRecords + this.renderErrors : 0;
  }

  /** Reads dropped or picked files (train, and an optional validation file). */
  async openFiles(sources: (DatasetSource | File)[]): Promise<void> {
    await this.read(sources, null);
  }

  /** Fetches a built-in sample from static/samples/ and reads it like a dropped file. */
  async openSample(sample: SampleDataset, base = './'): Promise<void> {
    this.cancel();
    this.prepareController = null;
    this.preparing = false;
    const controller = new AbortController();
    this.controller = controller;
    this.phase = 'reading';
    this.readingFile = sample.file;
    this.readProgress = 0;
    this.notice = null;
    let bytes: Uint8Array;
    try {
      const res = await fetch(sampleUrl(sample, base), { signal: controller.signal });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      if (controller !== this.controller) return;
      this.phase = this.files ? 'ready' : 'empty';
      this.controller = null;
      if (!isAbort(e)) this.notice = `Could not fetch the sample ${sample.title}: ${errorMessage(e)}`;
      return;
    }
    if (controller !== this.controller) return;
    this.controller = null;
    await this.read([{ name: sample.file, bytes }], sample);
  }

  private async read(sources: (DatasetSource | File)[], sample: SampleDataset | null): Promise<void> {
    this.cancel();
    this.prepareController = null; // a preparation of the old files ends quietly
    this.preparing = false;
    const controller = new AbortController();
    this.controller = controller;
    const previous = this.files;
    const previousName = this.name;
    this.phase = 'reading';
    this.readProgress = 0;
    this.readingFile = sources[0]?.name ?? '';
    this.notice = null;
    this.rejected = null;
    try {
      const files = await loadDatasetFiles(sources, {
        signal: controller.signal,
        onProgress: (f, file) => {
          if (controller !== this.controller) return;
          this.readProgress = f;
          if (file) this.readingFile = file;
        },
      });
      if (controller !== this.controller) return;
      this.controller = null;
      // A file with nothing usable in it does not throw away a dataset that was ready to train.
      if (previous && usableExamples(files) === 0) {
        this.rejected = files;
        this.notice = `Kept ${previousName}; ${datasetName(files) || files.names.join(', ')} has no usable example${firstProblem(files)}.`;
        this.phase = 'ready';
        if (!this.basePrepared) await this.prepare(); // reading cancelled the preparation in progress
        return;
      }
      this.rejected = null;
      this.files = files;
      this.sample = sample;
      this.skipBad = false;
      this.viewIndex = 0;
      this.basePrepared = null;
      this.prepareError = null;
      this.phase = 'ready';
      await this.prepare();
    } catch (e) {
      if (controller !== this.controller && isAbort(e)) return;
      this.controller = null;
      this.phase = previous ? 'ready' : 'empty';
      this.notice = isAbort(e)
        ? `Reading ${sources.map((s) => s.name).join(', ')} was cancelled; ${previous ? 'the previous dataset is kept' : 'no dataset is loaded'}.`
        : `Could not read the files: ${errorMessage(e)}`;
    }
  }

  /** The model's tokenizer arrived (or changed): prepare the dataset again with it. */
  async setTokenizer(t: PageTokenizer | null): Promise<void> {
    this.tokenizer = t;
    this.tokenizerPhase = t ? 'ready' : 'idle';
    this.tokenizerError = null;
    await this.prepare();
  }

  /** Renders, tokenizes and packs the good examples (with a ~10% automatic split when there is no validation file). */
  async prepare(): Promise<void> {
    const files = this.files;
    const tok = this.tokenizer;
    this.basePrepared = null;
    this.prepareError = null;
    if (!files?.train || !tok || files.train.format === null) return;
    if (files.train.examples.length === 0) return;
    // Reasons that concern the files (mismatched validation format, ...) are shown by `readiness`. The
    // rows do not depend on the objective: pairs are checked as a preference objective reads them.
    if (filesReadiness(files, true, files.train.format === 'preference' ? 'dpo' : 'sft').length) return;
    if (this.controller) return; // reading new files: they will be prepared when read
    this.prepareController?.abort(new DOMException('superseded', 'AbortError'));
    const controller = new AbortController();
    this.prepareController = controller;
    this.preparing = true;
    this.prepareProgress = 0;
    const T = this.seqLen();
    try {
      const prepared = await prepareTraining({
        train: files.train,
        validation: files.validation,
        tokenizer: tok.tokenizer,
        chatTemplate: tok.chatTemplate,
        seqLen: Number.isInteger(T) && T >= 8 && T <= tok.config.maxPositions ? T : Math.min(128, tok.config.maxPositions),
        signal: controller.signal,
        onProgress: (f) => {
          if (controller === this.prepareController) this.prepareProgress = f;
        },
      });
      if (controller !== this.prepareController || files !== this.files || tok !== this.tokenizer) return;
      this.basePrepared = prepared;
    } catch (e) {
      if (controller !== this.prepareController) return;
      if (isAbort(e)) this.notice = 'Tokenizing was cancelled; choose the dataset again to prepare it.';
      else this.prepareError = e instanceof PrepareError ? e.message : `Could not prepare the dataset: ${errorMessage(e)}`;
    } finally {
      if (controller === this.prepareController) {
        this.prepareController = null;
        this.preparing = false;
      }
    }
  }

  /** Stops reading or tokenizing. */
  cancel(): void {
    this.controller?.abort(new DOMException('cancelled by the user', 'AbortError'));
    this.prepareController?.abort(new DOMException('cancelled by the user', 'AbortError'));
  }

  /** Forgets the dataset. */
  clear(): void {
    this.cancel();
    this.controller = null;
    this.prepareController = null;
    this.files = null;
    this.sample = null;
    this.basePrepared = null;
    this.prepareError = null;
    this.preparing = false;
    this.phase = 'empty';
    this.notice = null;
    this.rejected = null;
    this.skipBad = false;
  }
}

/** Good examples in the files training would use (training and validation). */
function usableExamples(files: LoadedFiles): number {
  return (files.train?.examples.length ?? 0) + (files.validation?.examples.length ?? 0);
}

/** ": <the first error>" of refused files, or '' when they have none to name. */
function firstProblem(files: LoadedFiles): string {
  for (const d of [files.train, files.validation, files.test]) {
    const p = d?.problems.find((q) => q.severity === 'error');
    if (p) return p.where.unit === 'file' ? ` (${p.message})` : ` (${describeProblem(p)}${d!.badRecords > 1 ? `, and ${d!.badRecords - 1} more bad records` : ''})`;
  }
  return '';
}

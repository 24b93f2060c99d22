// State of the New model panel: a Llama-style model made from scratch — an architecture preset
// (pretrain/create.ts) or custom sizes, Hugging Face's initializer_range, a seed, the shipped tokenizer
// or a byte-level BPE trained on the text — pretrained on the user's plain-text files or the built-in
// Brown slice. With the shipped tokenizer the page reads and packs the text (pretrain/data.ts); with a
// trained one the worker trains the tokenizer first (a progress bar of its own) and packs the text
// with it. The worker trains the model with full fine-tuning in the one run loop and keeps the result
// in IndexedDB (MadeModels lists it). Live: train/validation loss, tokens/s, time left, a greedy
// sample every N steps.

import { parseDatasetFile } from '../../lib/data/parse.ts';
import type { TextTokenizer } from '../../lib/data/tokenize.ts';
import { vocabSizeProblem } from '../../lib/pretrain/bpe.ts';
import { architectureProblems, DEFAULT_INITIALIZER_RANGE, parameterCount, PRESETS, SHIPPED_TOKENIZER, type ArchitectureSpec, type PresetName } from '../../lib/pretrain/create.ts';
import { pretrainRows, pretrainTexts, readerName } from '../../lib/pretrain/data.ts';
import { BROWN_HELDOUT_PATH } from '../../lib/pretrain/general.ts';
import { defaultTrainConfig, DEFAULTS, type TrainConfig } from '../../lib/train/config.ts';
import type { EngineClient, Task } from '../../lib/worker/client.ts';
import type { LossAt, PretrainRequest, PretrainResult, TrainUpdate, WorkerEvent } from '../../lib/worker/protocol.ts';
import { errorMessage } from '../format.ts';
import { RunCurves } from '../train/curves.svelte.ts';

const P = DEFAULTS.pretraining;

export type NewModelPhase = 'idle' | 'preparing' | 'training' | 'stopping' | PretrainResult['status'] | 'error';

/** Where the page gets what the panel needs beyond the worker (replaceable in tests). */
export interface NewModelSources {
  /** The shipped tokenizer, in the page. */
  tokenizer(): Promise<TextTokenizer>;
  /** The built-in Brown slice's text. */
  brownText(): Promise<string>;
  /** The base model the worker has loaded (its tokenizer decodes the samples: it must be the shipped one), or null. */
  baseModel(): string | null;
  /** Absolute URL of the app's models/ folder. */
  localModels: string;
}

export class NewModelState extends RunCurves {
  preset = $state<PresetName | 'custom'>('1m');
  /** Custom sizes (used when preset is 'custom'); start as the 1m preset's. */
  custom = $state<ArchitectureSpec>({ ...PRESETS['1m'] });
  initializerRange = $state(DEFAULT_INITIALIZER_RANGE);
  seed = $state(0);
  steps = $state<number>(P.max_steps);
  learningRate = $state<number>(P.learning_rate);
  batch = $state<number>(P.per_device_train_batch_size);
  seqLen = $state<number>(P.max_length);
  evalEvery = $state<number>(P.eval_steps);
  sampleEvery = $state<number>(P.sample_every);
  samplePrompt = $state('The');
  name = $state('');
  /** 'shipped': brown-llama-4m's 4,096 tokens; 'bpe': a byte-level BPE of `vocabSize` tokens trained on the text. */
  tokenizer = $state<'shipped' | 'bpe'>('shipped');
  vocabSize = $state<number>(SHIPPED_TOKENIZER.vocabSize);
  /** The trained tokenizer's merges done, as a fraction (null: none being trained). */
  tokenizerProgress = $state<number | null>(null);

  /** 'brown': the built-in slice; 'files': the user's. */
  source = $state<'brown' | 'files'>('brown');
  /** The user's texts and the names of their files. */
  files = $state.raw<{ names: string[]; texts: string[] } | null>(null);
  dataProblems = $state.raw<string[]>([]);

  phase = $state<NewModelPhase>('idle');
  generations = $state.raw<{ step: number; text: string }[]>([]);
  /** What the rows came to: "1,204 train rows × 128, 12 validation rows; 40 of 401 paragraphs held out…" */
  dataNote = $state('');
  message = $state('');
  error = $state<string | null>(null);
  /** The kept model of the last run. */
  modelId = $state<string | null>(null);
  /** Counts ended runs, so the list of kept models can refresh. */
  finishedRuns = $state(0);

  private readonly client: EngineClient;
  private readonly sources: NewModelSources;
  private task: Task<PretrainResult> | null = null;

  constructor(client: EngineClient, sources: NewModelSources) {
    super();
    this.client = client;
    this.sources = sources;
  }

  get architecture(): ArchitectureSpec {
    return this.preset === 'custom' ? { ...this.custom } : { ...PRESETS[this.preset] };
  }

  /** The embedding's rows: the shipped vocabulary, or the size asked of the trained one (at most; a short text gives fewer). */
  get vocabularySize(): number {
    return this.tokenizer === 'bpe' ? this.vocabSize : SHIPPED_TOKENIZER.vocabSize;
  }

  get parameters(): number | null {
    return this.architectureProblems.length || (this.tokenizer === 'bpe' && vocabSizeProblem(this.vocabSize)) ? null : parameterCount(this.architecture, this.vocabularySize);
  }

  get architectureProblems(): string[] {
    return architectureProblems(this.architecture);
  }

  get running(): boolean {
    return this.phase === 'preparing' || this.phase === 'training' || this.phase === 'stopping';
  }

  /** Every reason the run cannot start, each a sentence ([] when it can). */
  get blockers(): string[] {
    const out = [...this.architectureProblems];
    const a = this.architecture;
    if (!out.length && this.seqLen > a.context) out.push(`the sequence length ${this.seqLen} is longer than the model's context ${a.context}`);
    const whole = (v: number, what: string) => (!Number.isInteger(v) || v < 1) && out.push(`${what} must be a whole number of at least 1`);
    whole(this.steps, 'steps');
    whole(this.batch, 'the batch');
    whole(this.seqLen, 'the sequence length');
    whole(this.evalEvery, 'validation every');
    whole(this.sampleEvery, 'sample every');
    if (!(this.learningRate > 0 && this.learningRate < 1)) out.push('the learning rate must be above 0 and below 1');
    if (!(this.initializerRange > 0 && this.initializerRange <= 1)) out.push('initializer_range must be above 0 and at most 1');
    if (this.source === 'files') {
      if (!this.files) out.push('add text files (.txt, .md or {"text"} JSONL), or pick the built-in Brown slice');
      out.push(...this.dataProblems);
    }
    if (this.tokenizer === 'bpe') {
      const problem = vocabSizeProblem(this.vocabSize);
      if (problem) out.push(problem);
    } else {
      const base = this.sources.baseModel();
      if (base !== 'brown-llama-4m') out.push(`a new model with the shipped tokenizer needs brown-llama-4m as the loaded model${base ? ` (${base} is)` : ''}, or train a tokenizer on the text`);
    }
    return out;
  }


  /** Reads the user's files with the one dataset reader (Markdown as plain text); their problems become blockers. */
  async addFiles(files: File[]): Promise<void> {
    const parsed = await Promise.all(files.map(async (f) => parseDatasetFile({ name: readerName(f.name), bytes: new Uint8Array(await f.arrayBuffer()) })));
    const { texts, problems } = pretrainTexts(parsed.map((p, i) => ({ ...p, file: files[i].name })));
    this.files = { names: files.map((f) => f.name), texts };
    this.dataProblems = problems;
    this.source = 'files';
  }

  /** The training settings of the run: full fine-tuning's, with pretraining's schedule and the panel's numbers. */
  config(): TrainConfig {
    return {
      ...defaultTrainConfig('FULL'),
      learning_rate: this.learningRate,
      warmup_steps: Math.min(P.warmup_steps, Math.max(0, this.steps - 1)),
      max_steps: this.steps,
      per_device_train_batch_size: this.batch,
      max_length: this.seqLen,
      eval_steps: this.evalEvery,
      weight_decay: P.weight_decay,
      seed: this.seed,
    };
  }

  /** Packs the text and starts the run in the worker. */
  async start(): Promise<void> {
    if (this.running || this.blockers.length) return;
    this.phase = 'preparing';
    this.error = null;
    this.message = '';
    this.stage = 'Reading and tokenizing the text…';
    this.train = [];
    this.validation = [];
    this.meter = [];
    this.generations = [];
    this.modelId = null;
    this.step = 0;
    this.dataNote = '';
    this.tokenizerProgress = this.tokenizer === 'bpe' ? 0 : null;
    const architecture = $state.snapshot(this.architecture) as ArchitectureSpec;
    const config = this.config();
    let data: PretrainRequest['data'];
    let dataset: string;
    try {
      const texts = this.source === 'files' && this.files ? [...this.files.texts] : [await this.sources.brownText()];
      dataset = this.source === 'files' && this.files ? this.files.names.join(', ') : `built-in Brown slice (${BROWN_HELDOUT_PATH})`;
      if (this.tokenizer === 'bpe') data = { tokenizer: 'bpe', vocabSize: this.vocabSize, texts }; // the worker trains the tokenizer, then packs
      else {
        const tok = await this.sources.tokenizer();
        const rows = pretrainRows(texts, tok, config.max_length, config.seed);
        data = { tokenizer: 'shipped', train: rows.train, validation: rows.validation, padId: tok.padId };
        this.dataNote = `${rows.train.rows.toLocaleString('en')} train rows and ${rows.validation.rows} validation rows of ${config.max_length} tokens; ${rows.note}`;
      }
    } catch (e) {
      this.phase = 'error';
      this.error = errorMessage(e);
      this.stage = '';
      return;
    }
    const name = this.name.trim() || `New ${this.preset === 'custom' ? 'custom' : this.preset} model`;
    const task = this.client.request(
      'pretrain',
      {
        name,
        architecture,
        initializerRange: this.initializerRange,
        seed: this.seed,
        config,
        steps: config.max_steps,
        data,
        dataset,
        sample: { every: this.sampleEvery, prompt: this.samplePrompt, maxNewTokens: 24 },
        localModels: this.sources.localModels,
      },
      (event: WorkerEvent) => {
        if (task !== this.task) return;
        if (event.type === 'train') this.apply(event.update);
        else if (event.type === 'progress' && event.file === 'tokenizer') this.tokenizerProgress = event.total > 0 ? event.loaded / event.total : 1;
        else if (event.type === 'status' && event.stage === 'data') this.dataNote = event.message;
        else if (event.type === 'status') this.stage = event.message;
      },
    );
    this.task = task;
    try {
      const result = await task.result;
      this.phase = result.status;
      this.message = result.modelId ? `${result.message} Kept as “${name}” in this browser.` : result.message;
      this.modelId = result.modelId;
      this.step = result.step;
    } catch (e) {
      this.phase = 'error';
      this.error = errorMessage(e);
    } finally {
      if (this.task === task) this.task = null;
      this.stage = '';
      this.finishedRuns++;
    }
  }

  /** Stops after the current step; the model trained so far is kept. */
  stop(): void {
    if (!this.task || !this.running) return;
    this.phase = 'stopping';
    this.task.cancel();
  }

  private apply(u: TrainUpdate): void {
    if (u.kind === 'start' && this.phase === 'preparing') this.phase = 'training';
    if (u.kind === 'sample') this.generations = [...this.generations, { step: u.step, text: u.text }];
    else this.drawCurves(u);
  }
}

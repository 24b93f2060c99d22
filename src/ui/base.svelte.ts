// State of the base-model screen: which model is loaded (and how far loading got), the prompt, the
// sampling options and the streamed output. Talks to the worker through EngineClient only.

import type { BackendPreference } from '../lib/base/backend.ts';
import { CATALOG, findModel, hubModel, isHubModelId, type ModelDtype, type ModelSpec } from '../lib/base/catalog.ts';
import type { GenerationResult, StreamedToken } from '../lib/base/runtime.ts';
import { DEFAULT_SAMPLING, normalizeSampling, type SamplingOptions } from '../lib/generate/sampling.ts';
import type { EngineClient, Task } from '../lib/worker/client.ts';
import type { LoadResult, WorkerEvent } from '../lib/worker/protocol.ts';
import type { PageOptions } from './url-options.ts';

export type LoadPhase = 'idle' | 'loading' | 'ready' | 'error';

/** The picker's value for "a Hugging Face repo typed in by hand". */
export const CUSTOM_MODEL = 'custom';

export const DEFAULT_PROMPT = 'The history of the city';

export class BaseModelState {
  // What the user picked.
  choice = $state<string>(CATALOG[0].id);
  customId = $state('');
  customDtype = $state<ModelDtype>('fp32');
  backend = $state<BackendPreference>('auto');

  // Loading.
  phase = $state<LoadPhase>('idle');
  stage = $state('');
  loadedBytes = $state(0);
  totalBytes = $state(0);
  model = $state.raw<LoadResult | null>(null);
  loadError = $state<string | null>(null);

  // Generation.
  prompt = $state(DEFAULT_PROMPT);
  chat = $state(false);
  sampling = $state<SamplingOptions>({ ...DEFAULT_SAMPLING });
  generating = $state(false);
  /** The prompt as the model saw it, for the output view. */
  shownPrompt = $state('');
  output = $state('');
  tokens = $state.raw<StreamedToken[]>([]);
  result = $state.raw<GenerationResult | null>(null);
  generateError = $state<string | null>(null);
  /** Live decoding speed while streaming (tokens after the first, per second). */
  liveTokensPerSecond = $state(0);
  /** How many generations have finished (successfully or not) since the page opened. */
  completed = $state(0);

  readonly hubHost: string | undefined;
  private readonly client: EngineClient;
  private loadTask: Task<LoadResult> | null = null;
  private generateTask: Task<GenerationResult> | null = null;
  private firstTokenAt = 0;

  constructor(client: EngineClient, options: PageOptions) {
    this.client = client;
    this.hubHost = options.hubHost;
    this.backend = options.backend;
    if (findModel(options.model.id)) {
      this.choice = options.model.id;
    } else {
      this.choice = CUSTOM_MODEL;
      this.customId = options.model.id;
      this.customDtype = options.model.dtype.webgpu;
    }
    this.chat = options.model.chat;
  }

  /** The model the picker describes now (not necessarily the loaded one). */
  get selected(): ModelSpec | null {
    if (this.choice !== CUSTOM_MODEL) return findModel(this.choice) ?? null;
    const id = this.customId.trim();
    return isHubModelId(id) ? hubModel(id, this.customDtype) : null;
  }

  get progress(): number | null {
    return this.totalBytes > 0 ? Math.min(1, this.loadedBytes / this.totalBytes) : null;
  }

  get ready(): boolean {
    return this.phase === 'ready' && this.model !== null;
  }

  async load(): Promise<void> {
    const spec = this.selected;
    if (!spec) {
      this.phase = 'error';
      this.loadError = 'Type a Hugging Face repo id like owner/name.';
      return;
    }
    this.cancelGeneration();
    this.phase = 'loading';
    this.loadError = null;
    this.model = null;
    this.loadedBytes = 0;
    this.totalBytes = 0;
    this.stage = 'Starting…';
    this.chat = spec.chat;
    const task = this.client.request(
      'load',
      {
        model: $state.snapshot(spec) as ModelSpec,
        backend: this.backend,
        localModels: new URL('models/', document.baseURI).href,
        hubHost: this.hubHost,
      },
      (event: WorkerEvent) => {
        if (task !== this.loadTask) return;
        if (event.type === 'status') this.stage = event.message;
        if (event.type === 'progress') {
          this.loadedBytes = event.loaded;
          this.totalBytes = event.total;
        }
      },
    );
    this.loadTask = task;
    try {
      const model = await task.result;
      if (task !== this.loadTask) return;
      this.model = model;
      this.phase = 'ready';
      this.stage = '';
      if (!model.hasChatTemplate) this.chat = false;
    } catch (err) {
      if (task !== this.loadTask) return;
      this.phase = 'error';
      this.loadError = err instanceof Error ? err.message : String(err);
    }
  }

  async generate(): Promise<void> {
    if (!this.ready || this.generating) return;
    this.sampling = normalizeSampling(this.sampling);
    this.generating = true;
    this.generateError = null;
    this.output = '';
    this.tokens = [];
    this.result = null;
    this.liveTokensPerSecond = 0;
    this.shownPrompt = this.prompt;
    const task = this.client.request(
      'generate',
      { prompt: this.prompt, sampling: $state.snapshot(this.sampling), chat: this.chat },
      (event: WorkerEvent) => {
        if (event.type !== 'token') return;
        const now = performance.now();
        if (event.token.index === 0) this.firstTokenAt = now;
        this.output += event.token.text;
        this.tokens = [...this.tokens, event.token];
        const n = this.tokens.length;
        if (n > 1 && now > this.firstTokenAt) this.liveTokensPerSecond = ((n - 1) * 1000) / (now - this.firstTokenAt);
      },
    );
    this.generateTask = task;
    try {
      const result = await task.result;
      this.result = result;
      this.output = result.text;
      if (result.renderedPrompt !== this.prompt) this.shownPrompt = result.renderedPrompt;
    } catch (err) {
      this.generateError = err instanceof Error ? err.message : String(err);
    } finally {
      if (this.generateTask === task) this.generateTask = null;
      this.generating = false;
      this.completed++;
    }
  }

  cancelGeneration(): void {
    this.generateTask?.cancel();
  }

  /** A fresh random seed (the user can still type one). */
  reseed(): void {
    this.sampling.seed = Math.floor(Math.random() * 2 ** 31);
  }

  resetSampling(): void {
    this.sampling = { ...DEFAULT_SAMPLING };
  }
}

// State of the base-model screen: which model is loaded (its load, as ModelLoad follows it), the
// prompt, the sampling options and the streamed output. Talks to the worker through EngineClient only.

import { probeWebGPU, type BackendPreference } from '../lib/base/backend.ts';
import { browserModel, CATALOG, findModel, hubModel, isHubModelId, type CatalogEntry, type ModelDtype, type ModelSpec } from '../lib/base/catalog.ts';
import { parseModelConfig } from '../lib/model/config.ts';
import { checkFit, describeFit, loadRefusal, WEBGPU_DEFAULT_LIMITS, type BufferLimits, type FitCheck, type RunSettings } from '../lib/train/fit.ts';
import { DEFAULT_MEMORY_BUDGET, halfPrecisionWeights } from '../lib/train/memory.ts';
import type { GenerationResult } from '../lib/base/runtime.ts';
import { DEFAULT_SAMPLING, normalizeSampling, type SamplingOptions } from '../lib/generate/sampling.ts';
import type { EngineClient, Task } from '../lib/worker/client.ts';
import type { LoadResult, WorkerEvent } from '../lib/worker/protocol.ts';
import { GenerationStream } from './generation.svelte.ts';
import { MadeModels, type ModelStore } from './newmodel/made-models.svelte.ts';
import { ModelLoad } from './model-load.svelte.ts';
import type { PageOptions } from './url-options.ts';
import { errorMessage } from './format.ts';

/** The picker's value for "a Hugging Face repo typed in by hand". */
export const CUSTOM_MODEL = 'custom';

/** The picker's value for a model made in this browser (its id in the models store). */
export const madeChoice = (id: string): string => `browser:${id}`;
const madeId = (choice: string): string | null => (choice.startsWith('browser:') ? choice.slice('browser:'.length) : null);

export const DEFAULT_PROMPT = 'The history of the city';

/** What the sampling controls edit: the options, a fresh seed, and a reset (Generate and Compare share one). */
export interface SamplingSettings {
  sampling: SamplingOptions;
  reseed(): void;
  resetSampling(): void;
}

export class BaseModelState extends ModelLoad<LoadResult> implements SamplingSettings {
  // What the user picked.
  choice = $state<string>(CATALOG[0].id);
  customId = $state('');
  customDtype = $state<ModelDtype>('fp32');
  backend = $state<BackendPreference>('auto');

  // Generation.
  prompt = $state(DEFAULT_PROMPT);
  chat = $state(false);
  sampling = $state<SamplingOptions>({ ...DEFAULT_SAMPLING });
  generating = $state(false);
  /** The prompt as the model saw it, for the output view. */
  shownPrompt = $state('');
  /** The streamed output: text, tokens, speed, and the result once finished. */
  readonly out = new GenerationStream();
  generateError = $state<string | null>(null);
  /** How many generations have finished (successfully or not) since the page opened. */
  completed = $state(0);
  /** The LoRA run a catalog model is checked against before download (checkRunsWith); none by default. */
  private runSettings = $state.raw<() => RunSettings | null>(() => null);
  /** The page's WebGPU adapter limits once asked; WebGPU's guaranteed minimums until then (or without one). */
  limits = $state.raw<BufferLimits>(WEBGPU_DEFAULT_LIMITS);
  /** GPU memory a run may use (WebGPU reports none: train/memory.ts's default). */
  memoryBudget = $state(DEFAULT_MEMORY_BUDGET);
  /**
   * The picked catalog model against the run settings (train/fit.ts), from its config alone: known
   * before anything downloads. `refusal` is set when even its weights are over the budget: load()
   * then refuses. `runRefusal` is set when the run at these settings does not fit: the model loads
   * (to generate, or to train at the settings named), and the training plan refuses the run.
   */
  readonly fit = $derived.by(
    (): { entry: CatalogEntry; settings: RunSettings; check: FitCheck; refusal: string | null; runRefusal: string | null; halfWeights: boolean } | null => {
      const entry = this.choice === CUSTOM_MODEL ? undefined : findModel(this.choice);
      const settings = this.runSettings();
      if (!entry || !settings) return null;
      const config = parseModelConfig(entry.config);
      const check = checkFit(config, settings, this.memoryBudget, this.limits);
      const halfWeights = halfPrecisionWeights(config);
      return { entry, settings, check, refusal: loadRefusal(entry.label, check), runRefusal: check.loads ? describeFit(entry.label, check) : null, halfWeights };
    },
  );
  /** Says why the model cannot change now (holdWhile); none by default. */
  private lockReason: () => string | null = () => null;

  readonly hubHost: string | undefined;
  /** The models made in this browser (the picker lists them; the New model panel keeps and deletes them). */
  readonly made: MadeModels;
  private readonly client: EngineClient;
  private generateTask: Task<GenerationResult> | null = null;

  constructor(client: EngineClient, options: PageOptions, madeStore?: ModelStore) {
    super();
    this.client = client;
    // A model in use cannot be deleted: the engine reads its folder again after a lost device.
    this.made = new MadeModels(madeStore, () => (this.model?.source === 'browser' ? this.model.id : null));
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
    void probeWebGPU().then((p) => {
      if (p.limits) this.limits = p.limits;
    });
  }

  /** Checks catalog models against this LoRA run before download (the method panel's batch and length). */
  checkRunsWith(settings: () => RunSettings | null): void {
    this.runSettings = settings;
  }

  /**
   * Why the model cannot change now, or null: a training run holds the engine on this model. The
   * worker runs one request at a time, so a load would wait for the run and then pull the model from
   * under it; load() and generate() refuse instead, and the panels disable their controls and say why.
   */
  get lockedBy(): string | null {
    return this.lockReason();
  }

  /** Holds the model while `reason` gives a reason (the training screen's running run). */
  holdWhile(reason: () => string | null): void {
    this.lockReason = reason;
  }

  /** The model the picker describes now (not necessarily the loaded one). */
  get selected(): ModelSpec | null {
    const made = madeId(this.choice);
    if (made !== null) return this.made.list.some((m) => m.id === made) ? browserModel(made) : null;
    if (this.choice !== CUSTOM_MODEL) return findModel(this.choice) ?? null;
    const id = this.customId.trim();
    return isHubModelId(id) ? hubModel(id, this.customDtype) : null;
  }

  /** The loaded model, or null (while loading, after an error, before the first load). */
  get model(): LoadResult | null {
    return this.value;
  }

  /** A model's name for people: a made model's name (its id is a random one), else the id. */
  nameOf(id: string): string {
    return this.made.list.find((m) => m.id === id)?.name ?? id;
  }

  /** Picks a model made in this browser and loads it as the base model. */
  async useMade(id: string): Promise<void> {
    if (this.lockedBy) return;
    this.choice = madeChoice(id);
    await this.load();
  }

  async load(): Promise<void> {
    if (this.lockedBy) return;
    const spec = this.selected;
    if (!spec) {
      this.fail(madeId(this.choice) !== null ? 'That model is no longer kept in this browser: pick another.' : 'Type a Hugging Face repo id like owner/name.');
      return;
    }
    const refusal = this.fit?.refusal;
    if (refusal) {
      this.fail(refusal);
      return;
    }
    this.cancelGeneration();
    this.chat = spec.chat;
    const payload = {
      model: $state.snapshot(spec) as ModelSpec,
      backend: this.backend,
      localModels: new URL('models/', document.baseURI).href,
      hubHost: this.hubHost,
    };
    const model = await this.run('Starting…', (onEvent) => this.client.request('load', payload, onEvent));
    if (model && !model.hasChatTemplate) this.chat = false;
  }

  async generate(): Promise<void> {
    if (!this.ready || this.generating || this.lockedBy) return;
    this.sampling = normalizeSampling(this.sampling);
    this.generating = true;
    this.generateError = null;
    this.out.reset();
    this.shownPrompt = this.prompt;
    const task = this.client.request(
      'generate',
      { prompt: this.prompt, sampling: $state.snapshot(this.sampling), chat: this.chat },
      (event: WorkerEvent) => {
        if (event.type === 'token') this.out.push(event.token);
      },
    );
    this.generateTask = task;
    try {
      const result = await task.result;
      this.out.finish(result);
      if (result.renderedPrompt !== this.prompt) this.shownPrompt = result.renderedPrompt;
    } catch (err) {
      this.generateError = errorMessage(err);
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

// The training, compare and adapter screens together: their states, and how they follow the rest of the
// page — the engine loads the model the base runtime loaded (after it, on the same worker), the adapter
// list refreshes when a run saves, and the setup screens lock while a run uses the plan.

import { untrack } from 'svelte';
import { specFor } from '../../lib/base/catalog.ts';
import type { TrainingPlan } from '../../lib/train/plan.ts';
import type { EngineClient } from '../../lib/worker/client.ts';
import { AdapterLibrary } from '../adapters/library.svelte.ts';
import type { BaseModelState, SamplingSettings } from '../base.svelte.ts';
import { reasonsSentence } from '../format.ts';
import { CompareState } from '../compare/compare.svelte.ts';
import { adapterChoice } from '../compare/sides.ts';
import { EngineState } from './engine.svelte.ts';
import { debugFaults, debugStep } from './run.ts';
import { TrainState } from './train.svelte.ts';
import { ForgettingState } from './forgetting.svelte.ts';
import type { TextTokenizer } from '../../lib/data/tokenize.ts';

/** What these screens need of the dataset and method screens. */
export interface PlanSource {
  readonly plan: TrainingPlan | null;
  readonly blockers: string[];
  locked: boolean;
  /** The loaded model's tokenizer, in the page (the general text is packed with it). */
  readonly dataset?: { readonly tokenizer: { readonly tokenizer: TextTokenizer } | null };
}

export class TrainScreens {
  readonly engine: EngineState;
  readonly train: TrainState;
  readonly library: AdapterLibrary;
  readonly compare: CompareState;
  /** Whether runs measure the general text, and the runs side by side. */
  readonly forgetting: ForgettingState;
  private readonly base: BaseModelState;
  private readonly source: PlanSource | null;
  private readonly dispose: () => void;

  constructor(client: EngineClient, base: BaseModelState, source: PlanSource | null, search = '') {
    this.base = base;
    this.source = source;
    this.engine = new EngineState(client, base.hubHost);
    const loseDeviceAfterStep = debugStep(search, 'debug-lose-device');
    const poisonAfterStep = debugStep(search, 'debug-nan-after');
    this.train = new TrainState(client, loseDeviceAfterStep || poisonAfterStep ? { loseDeviceAfterStep, poisonAfterStep } : null);
    // GPU faults for recovery tests (the worker keeps each until a request reaches its point).
    const faults = debugFaults(search);
    if (faults.length) void client.request('debug', { faults }).result.catch(() => {});
    // While a run holds the engine, the model it trains cannot be reloaded or changed.
    base.holdWhile(() => this.train.modelLock);
    this.forgetting = new ForgettingState(() => source?.dataset?.tokenizer?.tokenizer ?? null);
    this.train.generalRows = (plan) => (this.forgetting.measure ? this.forgetting.rows(plan.config.max_length) : null);
    this.library = new AdapterLibrary();
    this.compare = new CompareState(client);
    this.dispose = $effect.root(() => {
      // The engine follows the loaded base model (and its backend, for the reference).
      $effect(() => {
        const m = base.model;
        if (base.phase !== 'ready' || !m) return;
        if (this.engine.requested === m.id) return;
        const spec = specFor(m);
        void this.engine.load($state.snapshot(spec));
      });
      // A run ended: its adapter was saved (or updated); once listed, it goes on the comparison's right.
      $effect(() => {
        if (this.train.finishedRuns === 0) return;
        const id = untrack(() => this.train.adapterId);
        void this.library.refresh().then(() => {
          if (id && this.library.list.some((m) => m.id === id)) this.compare.right = adapterChoice(id);
        });
      });
      $effect(() => {
        if (this.source) this.source.locked = this.train.running;
      });

    });
  }

  get plan(): TrainingPlan | null {
    return this.source?.plan ?? null;
  }

  /**
   * The data Compare measures held-out loss on and picks prompts from: the dataset on the page, else
   * the current (or an earlier visit's) run's, which its checkpoint kept.
   */
  get comparePlan(): TrainingPlan | null {
    return this.plan ?? this.train.plan;
  }

  get planHint(): string {
    const reasons = this.source?.blockers ?? ['the dataset screen is not on this page'];
    return reasons.length ? reasonsSentence('To train', reasons) : '';
  }

  /** The Generate panel's sampling settings: Compare samples the same way. */
  get sampling(): SamplingSettings {
    return this.base;
  }

  /** Reads what IndexedDB kept from earlier visits and asks for persistent storage. */
  async open(): Promise<void> {
    await Promise.all([this.library.persist(), this.library.refresh(), this.train.findEarlier()]);
  }

  close(): void {
    this.dispose();
  }
}

// The playground's setup: the dataset screen's state, the method panel's state (with the objective and
// the saved adapter a run may continue), and the TrainingPlan they make together (src/lib/train/plan.ts). The training screen reads `plan` (null while something
// is missing, with the reasons in `blockers`) and sets `locked` while a run uses it.
//
// It follows the base model: when a model starts loading (or is loaded), its tokenizer and config.json
// are loaded in the page (ui/dataset/page-tokenizer.ts) for the dataset preview and the method panel.
// And it follows the data: a prepared dataset's suggested max sequence length becomes the method
// panel's, until the user sets one.

import { specFor, type ModelSpec } from '../lib/base/catalog.ts';
import { buildTrainingPlan, planProblems, type TrainingPlan } from '../lib/train/plan.ts';
import type { BaseModelState } from './base.svelte.ts';
import { DatasetState } from './dataset/dataset.svelte.ts';
import { loadPageTokenizer, type PageTokenizer } from './dataset/page-tokenizer.ts';
import { MethodState } from './method/method.svelte.ts';
import { ObjectiveState } from './method/objective.svelte.ts';
import { StartFromState, startProblem } from './method/start-from.svelte.ts';
import { untrack } from 'svelte';
import { errorMessage } from './format.ts';

export class PlaygroundState {
  readonly base: BaseModelState;
  readonly method: MethodState;
  readonly dataset: DatasetState;
  /** SFT, DPO, SimPO or ORPO, with TRL's settings. */
  readonly objective: ObjectiveState;
  /** The saved adapter the next run continues, if any (its method is then the panel's, locked). */
  readonly startFrom: StartFromState;
  /** Set by the training screen while a run uses the plan: the setup controls are disabled. */
  locked = $state(false);

  readonly #result = $derived.by((): { plan: TrainingPlan | null; blockers: string[] } => {
    const d = this.dataset;
    const reasons = [...d.readiness];
    const tok = d.tokenizer;
    const from = this.startFrom.adapter;
    const misfit = from ? startProblem(from, tok?.modelId ?? null) : null;
    if (this.startFrom.reading) reasons.push('the starting adapter is being read');
    else if (misfit) reasons.push(misfit);
    else if (from && JSON.stringify(from.method) !== JSON.stringify(this.method.current)) {
      reasons.push(`the method settings are not ${from.name}'s, which the run continues: pick the adapter again`);
    }
    const prepared = d.prepared;
    if (reasons.length || !tok || !prepared) return { plan: null, blockers: reasons.length ? reasons : ['the dataset is not prepared yet'] };
    const input = {
      model: { id: tok.modelId, config: tok.config },
      name: d.name,
      prepared,
      sourceExamples: [...(d.files?.train?.examples ?? []), ...(d.files?.validation?.examples ?? [])],
      chatTemplate: tok.chatTemplate,
      padId: tok.tokenizer.padId,
      skippedRecords: d.skippedRecords,
      method: this.method.current,
      objective: this.objective.current,
      config: this.method.currentConfig,
      memoryBudget: this.base.memoryBudget,
    };
    const problems = planProblems(input);
    if (problems.length) return { plan: null, blockers: problems };
    return { plan: buildTrainingPlan(input), blockers: [] };
  });

  /** The plan the training screen runs, or null (see `blockers`). A new object whenever an input changes. */
  get plan(): TrainingPlan | null {
    return this.#result.plan;
  }

  /** Every reason there is no plan yet, each a sentence ([] when `plan` is set). */
  get blockers(): string[] {
    return this.#result.blockers;
  }

  /** Which model's tokenizer is loading or loaded. */
  private tokenizerFor: string | null = null;
  private readonly localModels: string;
  private readonly disposeEffects: () => void;

  constructor(base: BaseModelState, opts: { localModels?: string } = {}) {
    this.base = base;
    this.objective = new ObjectiveState();
    this.method = new MethodState(() => this.objective.preference);
    this.startFrom = new StartFromState((m) => this.method.useAdapterMethod(m));
    this.dataset = new DatasetState(
      () => this.method.config.max_length,
      () => this.objective.type,
    );
    // The picker checks catalog models against a LoRA run at the panel's batch and length (a preference
    // batch counts pairs: two rows each); the plan checks the run itself against the same budget.
    base.checkRunsWith(() => ({
      method: this.method.lora,
      B: this.method.config.per_device_train_batch_size,
      T: this.method.config.max_length,
      rowsPerExample: this.objective.preference ? 2 : 1,
    }));
    this.localModels = opts.localModels ?? new URL('models/', document.baseURI).href;
    this.disposeEffects = $effect.root(() => {
      $effect(() => {
        const spec = this.modelInUse();
        untrack(() => void this.useModel(spec));
      });
      // A prepared dataset suggests a max sequence length that holds its longest example.
      $effect(() => {
        const s = this.dataset.lengthSuggestion;
        if (s) this.method.suggestLength(s.suggested);
      });
      // Preference pairs want a preference objective, other data SFT (ObjectiveState.followData).
      $effect(() => {
        const format = this.dataset.files?.train?.format ?? null;
        untrack(() => this.objective.followData(format === null ? null : format === 'preference'));
      });
    });
  }

  /** The model loaded, or being loaded: the one the plan is for. */
  private modelInUse(): ModelSpec | null {
    const b = this.base;
    if (b.phase === 'ready' && b.model) return specFor(b.model);
    if (b.phase === 'loading') return b.selected;
    return null;
  }

  private async useModel(spec: ModelSpec | null): Promise<void> {
    if (!spec || spec.id === this.tokenizerFor) return;
    this.tokenizerFor = spec.id;
    const d = this.dataset;
    d.tokenizerPhase = 'loading';
    d.tokenizerError = null;
    let t: PageTokenizer;
    try {
      t = await loadPageTokenizer($state.snapshot(spec) as ModelSpec, { localModels: this.localModels, hubHost: this.base.hubHost });
    } catch (e) {
      if (this.tokenizerFor !== spec.id) return;
      this.tokenizerFor = null; // try again when the model is picked again
      d.tokenizerPhase = 'error';
      d.tokenizerError = `${spec.id}: ${errorMessage(e)}`;
      return;
    }
    if (this.tokenizerFor !== spec.id) return;
    this.method.setModel(t.modelId, t.config);
    await d.setTokenizer(t);
  }

  dispose(): void {
    this.disposeEffects();
    this.dataset.cancel();
  }
}

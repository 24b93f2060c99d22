// State of the method panel: which method (LoRA, bottleneck adapter, prefix tuning) with its settings,
// and the training config — the one method config and the one training config, edited in place —
// plus what they cost on the loaded model (trainable parameters, GPU memory). Each method keeps its
// own settings, so switching back and forth loses nothing.

import { copyMethod, type BottleneckConfig, type LoraConfig, type MethodConfig, type PrefixTuningConfig } from '../../lib/adapters/config.ts';
import { projectionNames } from '../../lib/adapters/lora.ts';
import { architectureFor } from '../../lib/model/architecture.ts';
import type { ModelConfig } from '../../lib/model/config.ts';
import { configProblems, methodProblems } from '../../lib/train/checks.ts';
import { DEFAULTS, defaultMethod, defaultTrainConfig, type TrainConfig } from '../../lib/train/config.ts';
import { baseParamCount, estimateTrainingMemory, trainableParamCount, type MemoryEstimate } from '../../lib/train/memory.ts';

/** The methods the panel offers. */
export type PanelMethod = 'LORA' | 'BOTTLENECK' | 'PREFIX_TUNING';

export class MethodState {
  type = $state<PanelMethod>('LORA');
  lora = $state<LoraConfig>(defaultMethod('LORA'));
  bottleneck = $state<BottleneckConfig>(defaultMethod('BOTTLENECK'));
  prefix = $state<PrefixTuningConfig>(defaultMethod('PREFIX_TUNING'));
  config = $state<TrainConfig>(defaultTrainConfig('LORA'));
  /** The steps to go back to when the length switches from epochs to steps. */
  private steps = DEFAULTS.training.max_steps;
  /** The user typed a max sequence length: the data's suggestion no longer replaces it. */
  lengthSetByUser = $state(false);
  /** The loaded model's config.json, parsed; null until a model's tokenizer and config have loaded. */
  model = $state.raw<ModelConfig | null>(null);
  modelId = $state<string | null>(null);
  /** Whether the objective trains on preference pairs (the batch then counts pairs, two rows each). */
  private readonly pairs: () => boolean;

  constructor(pairs: () => boolean = () => false) {
    this.pairs = pairs;
  }

  /** The method as the plan takes it (a plain copy). */
  readonly current = $derived.by((): MethodConfig => {
    if (this.type === 'LORA') return copyMethod(this.lora);
    if (this.type === 'BOTTLENECK') return copyMethod(this.bottleneck);
    return copyMethod(this.prefix);
  });

  /** The training config as the plan takes it (a plain copy). */
  readonly currentConfig = $derived.by((): TrainConfig => ({ ...this.config }));

  /** Projection names of the loaded model ('q_proj', …): the LoRA target checkboxes. */
  readonly modules = $derived(this.model ? projectionNames(architectureFor(this.model)) : []);

  /** Every problem with the settings ([] when they can train); [] before a model is known. */
  readonly problems = $derived.by((): string[] => {
    if (!this.model) return [];
    return [...methodProblems(this.current, this.model), ...configProblems(this.currentConfig, this.model)];
  });

  /** Trainable parameters, or null when unknown (no model yet) or the settings are invalid. */
  readonly trainableParams = $derived.by((): number | null => {
    if (!this.model || methodProblems(this.current, this.model).length) return null;
    return trainableParamCount(this.current, this.model);
  });

  readonly baseParams = $derived(this.model ? baseParamCount(this.model) : null);

  /** GPU memory a training step needs, or null when unknown or the settings are invalid. */
  readonly memory = $derived.by((): MemoryEstimate | null => {
    const c = this.model;
    if (!c || this.problems.length) return null;
    // A preference objective's batch counts pairs: two rows each (as train/plan.ts estimates it).
    const rows = (this.pairs() ? 2 : 1) * this.config.per_device_train_batch_size;
    return estimateTrainingMemory(c, this.current, rows, this.config.max_length);
  });

  /** Train for a number of epochs (max_steps -1) rather than of steps. */
  get byEpochs(): boolean {
    return this.config.max_steps === -1;
  }

  set byEpochs(on: boolean) {
    if (on === this.byEpochs) return;
    if (on) this.steps = this.config.max_steps;
    this.config.max_steps = on ? -1 : this.steps;
  }

  /** The max sequence length as its field edits it: a length the user sets stays theirs. */
  get maxLength(): number {
    return this.config.max_length;
  }

  set maxLength(value: number) {
    this.config.max_length = value;
    this.lengthSetByUser = true;
  }

  /** The data's suggested length becomes the max sequence length, unless the user has set one. */
  suggestLength(value: number): void {
    if (!this.lengthSetByUser && this.config.max_length !== value) this.config.max_length = value;
  }

  /** The names LoRA targets now, as checkboxes show them ('all-linear' is every projection). */
  get targets(): string[] {
    const t = this.lora.target_modules;
    return t === 'all-linear' ? [...this.modules] : Array.isArray(t) ? t : [];
  }

  setTarget(name: string, on: boolean): void {
    const set = new Set(this.targets);
    if (on) set.add(name);
    else set.delete(name);
    this.lora.target_modules = this.modules.filter((x) => set.has(x));
  }

  /**
   * A model's config arrived. For another model the LoRA targets go back to every projection (the old
   * names may not exist in it), and the sequence length stays within its limit.
   */
  setModel(id: string, config: ModelConfig): void {
    if (this.modelId !== null && this.modelId !== id) this.lora.target_modules = 'all-linear';
    this.model = config;
    this.modelId = id;
    if (this.config.max_length > config.maxPositions) this.config.max_length = config.maxPositions;
  }

  /** Switches method; a learning rate still at the old method's default moves to the new one's. */
  setType(type: PanelMethod): void {
    if (type === this.type) return;
    if (this.config.learning_rate === DEFAULTS.learningRate[this.type]) this.config.learning_rate = DEFAULTS.learningRate[type];
    this.type = type;
  }

  /**
   * A saved adapter's method (continuing it): its type and settings exactly as its adapter_config.json
   * has them, since the run must train that very adapter. Not a FULL model: adapters only.
   */
  useAdapterMethod(m: MethodConfig): void {
    if (m.peft_type === 'FULL') return;
    this.setType(m.peft_type);
    if (m.peft_type === 'LORA') this.lora = copyMethod(m);
    else if (m.peft_type === 'BOTTLENECK') this.bottleneck = copyMethod(m);
    else this.prefix = copyMethod(m);
  }

  /** Every setting back to its default (for the loaded model). */
  reset(): void {
    this.lora = defaultMethod('LORA');
    this.bottleneck = defaultMethod('BOTTLENECK');
    this.prefix = defaultMethod('PREFIX_TUNING');
    this.config = defaultTrainConfig(this.type);
    this.steps = DEFAULTS.training.max_steps;
    this.lengthSetByUser = false; // the data's suggestion applies again
    if (this.model && this.config.max_length > this.model.maxPositions) this.config.max_length = this.model.maxPositions;
  }
}

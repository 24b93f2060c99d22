// State of the method panel: which method (LoRA, bottleneck adapter, prefix tuning) with its settings,
// the training hyper-parameters, and what they cost on the loaded model (trainable parameters, GPU
// memory). Each method keeps its own settings, so switching back and forth loses nothing.

import type { ModelConfig } from '../../lib/model/config.ts';
import {
  type BottleneckMethod,
  DEFAULT_BOTTLENECK_METHOD,
  DEFAULT_HYPER,
  DEFAULT_LORA_METHOD,
  DEFAULT_LR,
  DEFAULT_PREFIX_METHOD,
  baseParamCount,
  copyMethod,
  defaultTargetModules,
  estimateTrainingMemory,
  type HyperParams,
  hyperProblems,
  type LoraMethod,
  type MemoryEstimate,
  type MethodKind,
  type MethodPlan,
  methodProblems,
  type PrefixMethod,
  projectionNames,
  trainableParamCount,
} from '../../lib/train-plan.ts';

export class MethodState {
  kind = $state<MethodKind>('lora');
  lora = $state<LoraMethod>({ ...DEFAULT_LORA_METHOD, targetModules: [] });
  bottleneck = $state<BottleneckMethod>({ ...DEFAULT_BOTTLENECK_METHOD, placement: [...DEFAULT_BOTTLENECK_METHOD.placement] });
  prefix = $state<PrefixMethod>({ ...DEFAULT_PREFIX_METHOD });
  hyper = $state<HyperParams>({ ...DEFAULT_HYPER });
  /** The loaded model's config.json, parsed; null until a model's tokenizer and config have loaded. */
  config = $state.raw<ModelConfig | null>(null);
  modelId = $state<string | null>(null);

  /** The method as the plan takes it (a plain copy). */
  readonly current = $derived.by((): MethodPlan => {
    if (this.kind === 'lora') return copyMethod(this.lora);
    if (this.kind === 'bottleneck') return copyMethod(this.bottleneck);
    return copyMethod(this.prefix);
  });

  /** Projection names of the loaded model ('q_proj', …): the LoRA target checkboxes. */
  readonly modules = $derived(this.config ? projectionNames(this.config) : []);

  /** Every problem with the settings ([] when they can train); [] before a model is known. */
  readonly problems = $derived.by((): string[] => {
    if (!this.config) return [];
    return [...methodProblems(this.current, this.config), ...hyperProblems($state.snapshot(this.hyper) as HyperParams, this.config)];
  });

  /** Trainable parameters, or null when unknown (no model yet) or the settings are invalid. */
  readonly trainableParams = $derived.by((): number | null => {
    if (!this.config || methodProblems(this.current, this.config).length) return null;
    return trainableParamCount(this.current, this.config);
  });

  readonly baseParams = $derived(this.config ? baseParamCount(this.config) : null);

  /** GPU memory a training step needs, or null when unknown or the settings are invalid. */
  readonly memory = $derived.by((): MemoryEstimate | null => {
    const c = this.config;
    if (!c || this.problems.length) return null;
    return estimateTrainingMemory(c, this.current, this.hyper.batchSize, this.hyper.seqLen);
  });

  /**
   * A model's config arrived. For a new model the LoRA targets become all of its projections (the
   * old names may not exist in it) and the sequence length is kept within its limit.
   */
  setModel(id: string, config: ModelConfig): void {
    const changed = this.modelId !== id;
    this.config = config;
    this.modelId = id;
    if (changed || this.lora.targetModules.length === 0) this.lora.targetModules = defaultTargetModules(config);
    if (this.hyper.seqLen > config.maxPositions) this.hyper.seqLen = config.maxPositions;
  }

  /** Switches method; a learning rate still at the old method's default moves to the new one's. */
  setKind(kind: MethodKind): void {
    if (kind === this.kind) return;
    if (this.hyper.lr === DEFAULT_LR[this.kind]) this.hyper.lr = DEFAULT_LR[kind];
    this.kind = kind;
  }

  /** Every setting back to its default (for the loaded model). */
  reset(): void {
    const lr = DEFAULT_LR[this.kind];
    this.lora = { ...DEFAULT_LORA_METHOD, targetModules: this.config ? defaultTargetModules(this.config) : [] };
    this.bottleneck = { ...DEFAULT_BOTTLENECK_METHOD, placement: [...DEFAULT_BOTTLENECK_METHOD.placement] };
    this.prefix = { ...DEFAULT_PREFIX_METHOD };
    this.hyper = { ...DEFAULT_HYPER, lr };
    if (this.config && this.hyper.seqLen > this.config.maxPositions) this.hyper.seqLen = this.config.maxPositions;
  }
}

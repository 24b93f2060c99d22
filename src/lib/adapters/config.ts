// The one method config: where the trainable weights sit and how many there are. Its fields are the
// ones PEFT writes into adapter_config.json, with PEFT's names, from the method panel through the
// worker to the GPU; peft/config.ts reads and writes the file from and to exactly this type.
//
//   LORA           PEFT's LoraConfig: y = x·Wᵀ + scaling·(dropout(x)·Aᵀ)·Bᵀ on every targeted projection
//   BOTTLENECK     Houlsby adapters y ← y + up(act(down(y))) after attention and/or the MLP. PEFT has no
//                  such type; the file layout is ours (tests/fixtures/README.md), in PEFT's style.
//   PREFIX_TUNING  PEFT's PrefixTuningConfig without prefix_projection: P trainable key/value positions
//                  in every layer
//   FULL           full fine-tuning: every weight of the base model trains (not a PEFT method; the
//                  result is a model folder, not an adapter)

import { fullMatch } from './target-pattern.ts';

/**
 * PEFT's modules_to_save: whole modules that train and save next to the adapter. The one module here
 * is "score", the reward model's head (adapters/score.ts): an adapter with it is a sequence
 * classifier (task_type SEQ_CLS) whose output is one reward per sequence. Absent: a language model.
 */
export interface SavedModules {
  modules_to_save?: 'score'[];
}

export interface LoraConfig extends SavedModules {
  peft_type: 'LORA';
  /** rank of the update B·A */
  r: number;
  /** the update is scaled by lora_alpha/r (lora_alpha/√r with use_rslora) */
  lora_alpha: number;
  /** dropout on the LoRA branch's input, training only */
  lora_dropout: number;
  /**
   * Which projections get a LoRA branch: module names matched as PEFT does (a module matches if its
   * path equals a name or ends with '.' + name), one regular expression that must match the whole
   * path, or 'all-linear' (every projection except lm_head).
   */
  target_modules: string[] | string;
  /** rank-stabilised LoRA: scaling lora_alpha/√r */
  use_rslora: boolean;
  /** only these layers get LoRA branches; null: every layer */
  layers_to_transform: number[] | null;
}

export type BottleneckPlacement = 'self_attn' | 'mlp';
export type BottleneckNonLinearity = 'relu' | 'silu' | 'gelu' | 'gelu_tanh';

export interface BottleneckConfig extends SavedModules {
  peft_type: 'BOTTLENECK';
  /** width of the bottleneck (rows of down) */
  bottleneck_size: number;
  non_linearity: BottleneckNonLinearity;
  /** after the attention block's output ('self_attn') and/or the MLP's ('mlp'); at least one */
  placement: BottleneckPlacement[];
}

export interface PrefixTuningConfig extends SavedModules {
  peft_type: 'PREFIX_TUNING';
  /** P: virtual tokens whose keys/values every layer prepends */
  num_virtual_tokens: number;
}

export interface FullConfig {
  peft_type: 'FULL';
}

export type MethodConfig = LoraConfig | BottleneckConfig | PrefixTuningConfig | FullConfig;
export type MethodType = MethodConfig['peft_type'];

export const BOTTLENECK_PLACEMENTS: readonly BottleneckPlacement[] = ['self_attn', 'mlp'];
export const BOTTLENECK_NON_LINEARITIES: readonly BottleneckNonLinearity[] = ['relu', 'silu', 'gelu', 'gelu_tanh'];

/** PEFT's scaling of the LoRA update. */
export function loraScaling(c: Pick<LoraConfig, 'r' | 'lora_alpha' | 'use_rslora'>): number {
  return c.use_rslora ? c.lora_alpha / Math.sqrt(c.r) : c.lora_alpha / c.r;
}

/**
 * PEFT's check_target_module_exists: a string target is a regular expression matched against the
 * whole module path ('all-linear' means every projection), by a linear-time engine
 * (target-pattern.ts; it throws a TargetPatternError for a pattern it refuses); a list matches a
 * module whose path equals an entry or ends with '.' + entry.
 */
export function isTargetModule(targets: string[] | string, module: string): boolean {
  if (typeof targets === 'string') {
    if (targets === 'all-linear') return true;
    return fullMatch(targets, module);
  }
  return targets.some((t) => module === t || module.endsWith(`.${t}`));
}

/** Whether the method carries the reward model's head (modules_to_save "score"). */
export function hasScoreHead(m: MethodConfig): boolean {
  return m.peft_type !== 'FULL' && (m.modules_to_save ?? []).includes('score');
}

/** The method with the reward model's head added (a copy; FULL cannot carry one: it is not an adapter). */
export function withScoreHead(m: MethodConfig): MethodConfig {
  if (m.peft_type === 'FULL') throw new Error('a reward model is an adapter with a score head: use LoRA, a bottleneck adapter or prefix tuning, not full fine-tuning');
  return hasScoreHead(m) ? copyMethod(m) : { ...copyMethod(m), modules_to_save: ['score'] };
}

/** A plain deep copy (no shared arrays, no reactive proxies: structuredClone refuses Svelte's). */
export function copyMethod<M extends MethodConfig>(m: M): M {
  return JSON.parse(JSON.stringify(m)) as M;
}

/** What each method is called on screen. */
export const METHOD_LABELS: Record<MethodType, string> = {
  LORA: 'LoRA',
  BOTTLENECK: 'Bottleneck adapter',
  PREFIX_TUNING: 'Prefix tuning',
  FULL: 'Full fine-tuning',
};

/** The method and its settings in a few words: "LoRA r 8, α 16 · q_proj, v_proj" and friends. */
export function describeMethod(m: MethodConfig): string {
  switch (m.peft_type) {
    case 'LORA': {
      const targets = typeof m.target_modules === 'string' ? m.target_modules : m.target_modules.join(', ');
      const layers = m.layers_to_transform ? ` · layers ${m.layers_to_transform.join(', ')}` : '';
      return `LoRA r ${m.r}, α ${m.lora_alpha}${m.use_rslora ? ', rsLoRA' : ''} · ${targets}${layers}${hasScoreHead(m) ? ' + score head' : ''}`;
    }
    case 'PREFIX_TUNING':
      return `Prefix tuning · ${m.num_virtual_tokens} virtual tokens${hasScoreHead(m) ? ' + score head' : ''}`;
    case 'BOTTLENECK':
      return `Bottleneck adapter · size ${m.bottleneck_size}, ${m.non_linearity} · after ${m.placement.join(' and ')}${hasScoreHead(m) ? ' + score head' : ''}`;
    case 'FULL':
      return 'Full fine-tuning · every weight';
  }
}

// Small facts about a run, apart from its state: the name its adapter gets, and the test hooks a URL
// can switch on.

import type { TrainingPlan } from '../../lib/train/plan.ts';

/** The default adapter name for a plan: method and dataset. */
export function runName(plan: TrainingPlan): string {
  const m = plan.method;
  const what =
    m.peft_type === 'LORA'
      ? `LoRA r${m.r}`
      : m.peft_type === 'BOTTLENECK'
        ? `Bottleneck ${m.bottleneck_size}`
        : m.peft_type === 'PREFIX_TUNING'
          ? `Prefix ${m.num_virtual_tokens}`
          : 'Full';
  return `${what} · ${plan.data.name}`;
}

/**
 * A step number from the URL, for recovery tests: ?debug-lose-device=N destroys the engine's GPU
 * device after training step N; ?debug-nan-after=N overwrites the trainable weights with NaN after it.
 */
export function debugStep(search: string, name: 'debug-lose-device' | 'debug-nan-after'): number | undefined {
  const v = new URLSearchParams(search).get(name);
  const n = v === null ? NaN : Number(v);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

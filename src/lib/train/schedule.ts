// Learning-rate schedule (CPU): linear warm-up to the peak, then cosine or linear decay to
// learning_rate·min_lr_rate at the run's last step (nanoGPT's get_lr), or constant. The value goes into
// AdamW's uniform each step, so a schedule costs nothing on the GPU.
import type { TrainConfig } from './config.ts';

export type Schedule = Pick<TrainConfig, 'learning_rate' | 'lr_scheduler_type' | 'min_lr_rate' | 'warmup_steps'>;

/**
 * Learning rate of optimizer step `step` (0-based) of a run of `steps` steps. Warm-up longer than the
 * run ends with the run.
 */
export function learningRateAt(s: Schedule, steps: number, step: number): number {
  const bad = (why: string) => {
    throw new Error(`learning-rate schedule: ${why}`);
  };
  if (!(s.learning_rate > 0) || !Number.isFinite(s.learning_rate)) bad(`learning_rate ${s.learning_rate} must be a positive number`);
  if (!(s.min_lr_rate >= 0 && s.min_lr_rate <= 1)) bad(`min_lr_rate ${s.min_lr_rate} must be between 0 and 1`);
  if (!Number.isInteger(s.warmup_steps) || s.warmup_steps < 0) bad(`warmup_steps ${s.warmup_steps} must be a whole number >= 0`);
  if (!Number.isInteger(steps) || steps < 1) bad(`the run's ${steps} steps must be a whole number >= 1`);
  if (!Number.isInteger(step) || step < 0) bad(`step ${step} must be a whole number >= 0`);
  const peak = s.learning_rate;
  const min = peak * s.min_lr_rate;
  const warm = Math.min(s.warmup_steps, steps);
  if (step < warm) return (peak * (step + 1)) / warm;
  if (s.lr_scheduler_type === 'constant') return peak;
  if (step >= steps) return min;
  // progress 0 at the end of warm-up, 1 at the last step
  const progress = (step - warm) / Math.max(1, steps - warm);
  if (s.lr_scheduler_type === 'linear') return peak + (min - peak) * progress;
  return min + 0.5 * (peak - min) * (1 + Math.cos(Math.PI * progress));
}

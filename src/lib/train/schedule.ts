// Learning-rate schedule (CPU): linear warmup from lr/warmup to the peak, then cosine or linear
// decay to the minimum at maxSteps (nanoGPT's get_lr), or constant. The value goes into AdamW's
// uniform each step, so a schedule costs nothing on the GPU.

export interface Schedule {
  /** peak learning rate, reached at the end of warmup */
  learningRate: number;
  /** where the decay ends (at maxSteps) and stays */
  minLearningRate: number;
  /** steps of linear warmup: step s < warmupSteps gets learningRate·(s+1)/warmupSteps */
  warmupSteps: number;
  /** total optimizer steps; the decay spans warmupSteps..maxSteps */
  maxSteps: number;
  schedule: 'cosine' | 'linear' | 'constant';
}

export function checkSchedule(s: Schedule): void {
  const bad = (why: string) => {
    throw new Error(`learning-rate schedule: ${why}`);
  };
  if (!(s.learningRate > 0) || !Number.isFinite(s.learningRate)) bad(`learningRate ${s.learningRate} must be a positive number`);
  if (!(s.minLearningRate >= 0) || s.minLearningRate > s.learningRate) {
    bad(`minLearningRate ${s.minLearningRate} must be between 0 and learningRate ${s.learningRate}`);
  }
  if (!Number.isInteger(s.warmupSteps) || s.warmupSteps < 0) bad(`warmupSteps ${s.warmupSteps} must be a whole number >= 0`);
  if (!Number.isInteger(s.maxSteps) || s.maxSteps < 1) bad(`maxSteps ${s.maxSteps} must be a whole number >= 1`);
}

/** Learning rate for optimizer step `step` (0-based). */
export function learningRateAt(s: Schedule, step: number): number {
  checkSchedule(s);
  if (!Number.isInteger(step) || step < 0) throw new Error(`learning-rate schedule: step ${step} must be a whole number >= 0`);
  const { learningRate: peak, minLearningRate: min, warmupSteps: warm, maxSteps } = s;
  if (step < warm) return (peak * (step + 1)) / warm;
  if (s.schedule === 'constant') return peak;
  if (step >= maxSteps) return min;
  // progress 0 at the end of warmup, 1 at maxSteps
  const progress = (step - warm) / Math.max(1, maxSteps - warm);
  if (s.schedule === 'linear') return peak + (min - peak) * progress;
  return min + 0.5 * (peak - min) * (1 + Math.cos(Math.PI * progress));
}

/** The whole schedule, one value per step (for the UI's preview). */
export function learningRates(s: Schedule): Float64Array {
  return Float64Array.from({ length: s.maxSteps }, (_, i) => learningRateAt(s, i));
}

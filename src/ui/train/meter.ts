// Training speed and time left, from the cumulative counters each step event carries. Rates use the
// recent window of steps, not the whole run, so a pause for evaluation or a slow first step (shader
// compilation) fades out of the estimate.

export interface StepSample {
  step: number;
  /** Tokens processed since the run (or resume) began. */
  tokens: number;
  /** Milliseconds spent training since the run (or resume) began. */
  elapsedMs: number;
}

/** Tokens per second over the last `window` steps (0 until two samples exist). */
export function tokensPerSecond(samples: StepSample[], window = 20): number {
  if (samples.length < 2) return samples.length === 1 && samples[0].elapsedMs > 0 ? (samples[0].tokens * 1000) / samples[0].elapsedMs : 0;
  const last = samples[samples.length - 1];
  const first = samples[Math.max(0, samples.length - 1 - window)];
  const dt = last.elapsedMs - first.elapsedMs;
  return dt > 0 ? ((last.tokens - first.tokens) * 1000) / dt : 0;
}

/** Milliseconds per step over the last `window` steps (NaN until known). */
export function msPerStep(samples: StepSample[], window = 20): number {
  if (samples.length === 0) return NaN;
  if (samples.length === 1) return samples[0].step > 0 ? samples[0].elapsedMs / samples[0].step : NaN;
  const last = samples[samples.length - 1];
  const first = samples[Math.max(0, samples.length - 1 - window)];
  const ds = last.step - first.step;
  return ds > 0 ? (last.elapsedMs - first.elapsedMs) / ds : NaN;
}

/** Estimated milliseconds until step `totalSteps` (NaN while unknown, 0 when there). */
export function etaMs(samples: StepSample[], totalSteps: number, window = 20): number {
  if (samples.length === 0) return NaN;
  const left = totalSteps - samples[samples.length - 1].step;
  if (left <= 0) return 0;
  return left * msPerStep(samples, window);
}

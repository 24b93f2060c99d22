// Overfitting as the loss chart says it: the validation loss rose at several evaluations in a row and
// now stands clearly above its lowest point. The training loss keeps falling while that happens, which
// is why a newcomer looking at the training curve alone misses it.

import type { LossPoint } from './chart.ts';

export interface Overfitting {
  /** The lowest validation loss so far (where the weights generalised best). */
  lowest: LossPoint;
  /** The latest validation loss. */
  last: LossPoint;
  /** How far the latest is above the lowest, as a fraction of the lowest (0.45 is 45%). */
  rise: number;
}

/** The lowest finite point (the earliest of equals), or null when there is none. */
export function lowestPoint(points: readonly LossPoint[]): LossPoint | null {
  let best: LossPoint | null = null;
  for (const p of points) if (Number.isFinite(p.loss) && (best === null || p.loss < best.loss)) best = p;
  return best;
}

/**
 * Overfitting, or null: the last `rises` evaluations each rose over the one before, and the latest is
 * at least `minRise` (a fraction) above the lowest. Non-finite losses are left out.
 */
export function detectOverfitting(validation: readonly LossPoint[], rises = 3, minRise = 0.01): Overfitting | null {
  const points = validation.filter((p) => Number.isFinite(p.loss));
  if (points.length < rises + 1) return null;
  for (let i = points.length - rises; i < points.length; i++) if (!(points[i].loss > points[i - 1].loss)) return null;
  const lowest = lowestPoint(points)!;
  const last = points[points.length - 1];
  const rise = lowest.loss > 0 ? (last.loss - lowest.loss) / lowest.loss : Infinity;
  return rise >= minRise ? { lowest, last, rise } : null;
}

/** "overfitting: validation loss up 45% since step 20". */
export function overfittingMessage(o: Overfitting): string {
  const percent = o.rise * 100;
  const amount = Number.isFinite(percent) ? `${percent < 10 ? percent.toFixed(1) : Math.round(percent)}%` : `by ${(o.last.loss - o.lowest.loss).toFixed(3)}`;
  return `overfitting: validation loss up ${amount} since step ${o.lowest.step}`;
}

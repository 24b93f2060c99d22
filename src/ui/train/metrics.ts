// A preference run's metrics (TRL's names: train/objective.ts PREFERENCE_METRICS) as the training
// screen shows them: one metric's curve from the loss history, and the sentence that sums up where a
// run ended. Steps report the metrics of their batch of pairs; validations those of every held-out pair.

import type { PreferenceMetric } from '../../lib/train/objective.ts';
import type { LossAt } from '../../lib/worker/protocol.ts';
import type { LossPoint } from './chart.ts';

/** The metrics the training screen charts beside the loss, with what each says. */
export const CHARTED_METRICS: readonly { name: PreferenceMetric; says: string; range?: [number, number] }[] = [
  { name: 'rewards/margins', says: 'mean reward of the chosen answer minus the rejected one’s: above 0 once the model prefers the chosen' },
  { name: 'rewards/accuracies', says: 'share of pairs whose chosen answer gets the higher reward', range: [0, 1] },
];

/** One metric's points (as LossPoint, the charts' shape); points without metrics (an SFT run) are left out. */
export function metricSeries(points: readonly LossAt[], name: PreferenceMetric): LossPoint[] {
  const out: LossPoint[] = [];
  for (const p of points) if (p.metrics) out.push({ step: p.step, loss: p.metrics[name] });
  return out;
}

/** A metric's value as the screen writes it: accuracies as a share with two decimals, the rest with four. */
export function formatMetric(name: PreferenceMetric, v: number | undefined): string {
  if (v === undefined) return '–';
  if (!Number.isFinite(v)) return String(v);
  return name === 'rewards/accuracies' ? v.toFixed(2) : v.toFixed(4);
}

function lastMetrics(points: readonly LossAt[]): LossAt['metrics'] {
  for (let i = points.length - 1; i >= 0; i--) if (points[i].metrics) return points[i].metrics;
  return undefined;
}

const SUMMED: readonly PreferenceMetric[] = ['rewards/margins', 'rewards/accuracies', 'rewards/chosen', 'rewards/rejected'];

/**
 * Where a preference run ended, in one sentence: the last training step's and the last validation's
 * margins, accuracies and rewards, under TRL's names; '' when there are no metrics (an SFT run).
 */
export function preferenceSummary(train: readonly LossAt[], validation: readonly LossAt[]): string {
  const t = lastMetrics(train);
  const v = lastMetrics(validation);
  if (!t && !v) return '';
  const parts = SUMMED.map((name) => {
    const sides = [t ? `${formatMetric(name, t[name])} on the last training batch` : '', v ? `${formatMetric(name, v[name])} on the validation pairs` : ''];
    return `${name} ${sides.filter(Boolean).join(', ')}`;
  });
  return `${parts.join('; ')}.`;
}

// The win rate of a tuned model over the base: among the judged comparisons of the base (either
// runtime, no adapter) against one adapter, how often the adapter's answer won, lost, tied, or both
// were bad. Comparisons of two adapters, or of the base against itself, say nothing about tuning and
// are not counted.

import type { Judgment } from './verdicts.ts';

export interface WinRate {
  adapterId: string;
  /** The adapter's name at its latest judgment. */
  adapterName: string;
  won: number;
  lost: number;
  tie: number;
  bothBad: number;
  total: number;
  /** Distinct prompts judged. */
  prompts: number;
}

/** One row per adapter judged against the base, most judged first. */
export function winRates(judgments: readonly Judgment[]): WinRate[] {
  const rows = new Map<string, WinRate & { seen: Set<string>; at: number }>();
  for (const j of judgments) {
    const l = j.left.by.adapterId;
    const r = j.right.by.adapterId;
    if ((l === null) === (r === null)) continue; // both base or both tuned
    const tunedLeft = l !== null;
    const tuned = tunedLeft ? j.left.by : j.right.by;
    const id = tuned.adapterId!;
    let row = rows.get(id);
    if (!row) {
      row = { adapterId: id, adapterName: tuned.adapterName ?? id, won: 0, lost: 0, tie: 0, bothBad: 0, total: 0, prompts: 0, seen: new Set(), at: -Infinity };
      rows.set(id, row);
    }
    if (j.at >= row.at) {
      row.at = j.at;
      row.adapterName = tuned.adapterName ?? id;
    }
    if (j.verdict === 'tie') row.tie++;
    else if (j.verdict === 'both-bad') row.bothBad++;
    else if ((j.verdict === 'left') === tunedLeft) row.won++;
    else row.lost++;
    row.total++;
    row.seen.add(j.prompt);
    row.prompts = row.seen.size;
  }
  return [...rows.values()]
    .sort((a, b) => b.total - a.total || a.adapterName.localeCompare(b.adapterName))
    .map(({ seen: _seen, at: _at, ...row }) => row);
}

/** A count as a share of the total, in whole percent ("—" when nothing was judged). */
export function share(count: number, total: number): string {
  return total > 0 ? `${Math.round((100 * count) / total)}%` : '—';
}

// Per-row segment sums of compacted per-token values, plain loops in float64. The loss head keeps
// only the positions whose loss counts, compacted: entry j holds position rows[j] = b·T + t (ascending)
// and its value losses[j]. A sequence-level objective (DPO and its kin) needs each row's total:
//   sums[r]   = Σ losses[j] over the entries j with ⌊rows[j] / T⌋ = r
//   counts[r] = how many entries that is (the row's counted tokens; a row with none gets 0, 0)
// backward: dlosses[j] = dsums[⌊rows[j] / T⌋] (the sum's gradient reaches each of its terms).

export interface SegmentSumCache {
  rows: Int32Array; // (M) flat positions b·T+t, ascending
  R: number;
  T: number;
}

export function forward(
  losses: Float64Array, // (M)
  rows: Int32Array, // (M)
  R: number,
  T: number,
): { out: Float64Array; counts: Float64Array; cache: SegmentSumCache } {
  const out = new Float64Array(R); // (R)
  const counts = new Float64Array(R); // (R)
  for (let j = 0; j < losses.length; j++) {
    const r = Math.floor(rows[j] / T);
    out[r] += losses[j];
    counts[r] += 1;
  }
  return { out, counts, cache: { rows, R, T } };
}

export function backward(dsums: Float64Array, cache: SegmentSumCache): { dlosses: Float64Array } {
  const { rows, T } = cache;
  const dlosses = new Float64Array(rows.length); // (M)
  for (let j = 0; j < rows.length; j++) dlosses[j] = dsums[Math.floor(rows[j] / T)];
  return { dlosses };
}

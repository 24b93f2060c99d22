// CPU reference for the embedding lookup (float64, plain loops):
//   out[n,:] = wte[ids[n], :] (+ wpe[positions[n] + offset, :])
// The backward scatters dout back to the rows each position read. gatherRows is the lookup without
// positions, scatterAddRows its backward.

export interface EmbeddingCache {
  ids: ArrayLike<number>; // (N)
  positions: ArrayLike<number> | null; // (N)
  offset: number;
  C: number;
  V: number;
  /** rows of wpe, or 0 without learned positions */
  maxPositions: number;
}

export function forward(
  ids: ArrayLike<number>, // (N)
  wte: Float64Array, // (V,C)
  pos: { positions: ArrayLike<number>; wpe: Float64Array; offset: number } | null, // wpe (maxPositions,C)
  C: number,
): { out: Float64Array; cache: EmbeddingCache } {
  const N = ids.length;
  const V = wte.length / C;
  const maxPositions = pos ? pos.wpe.length / C : 0;
  const out = new Float64Array(N * C); // (N,C)
  for (let n = 0; n < N; n++) {
    const id = ids[n];
    if (!(id >= 0 && id < V)) throw new Error(`embedding: id ${id} at ${n} is outside [0, ${V})`);
    const p = pos ? pos.positions[n] + pos.offset : 0;
    if (pos && !(p >= 0 && p < maxPositions)) throw new Error(`embedding: position ${p} at ${n} is outside [0, ${maxPositions})`);
    for (let c = 0; c < C; c++) out[n * C + c] = wte[id * C + c] + (pos ? pos.wpe[p * C + c] : 0);
  }
  return { out, cache: { ids, positions: pos?.positions ?? null, offset: pos?.offset ?? 0, C, V, maxPositions } };
}

export function backward(dout: Float64Array, cache: EmbeddingCache): { dwte: Float64Array; dwpe: Float64Array | null } {
  const { ids, positions, offset, C, V, maxPositions } = cache;
  const dwte = new Float64Array(V * C); // (V,C)
  const dwpe = positions ? new Float64Array(maxPositions * C) : null; // (maxPositions,C)
  for (let n = 0; n < ids.length; n++) {
    for (let c = 0; c < C; c++) {
      dwte[ids[n] * C + c] += dout[n * C + c];
      if (dwpe) dwpe[(positions![n] + offset) * C + c] += dout[n * C + c];
    }
  }
  return { dwte, dwpe };
}

// CPU reference for the embedding lookup (float64, plain loops):
// out[b,t,:] = wte[ids[b,t], :] (+ wpe[pos0 + t, :]); backward scatters dout back to those rows.

export interface EmbeddingCache {
  ids: ArrayLike<number>;
  B: number;
  T: number;
  C: number;
  V: number;
  /** rows of wpe, or 0 without learned positions */
  maxT: number;
  pos0: number;
}

export function forward(
  ids: ArrayLike<number>, // (B,T)
  wte: Float64Array, // (V,C)
  wpe: Float64Array | null, // (maxT,C)
  B: number,
  T: number,
  C: number,
  pos0 = 0,
): { out: Float64Array; cache: EmbeddingCache } {
  const V = wte.length / C;
  const out = new Float64Array(B * T * C);
  for (let bt = 0; bt < B * T; bt++) {
    const id = ids[bt];
    if (!(id >= 0 && id < V)) throw new Error(`embedding: id ${id} at ${bt} is outside [0, ${V})`);
    for (let c = 0; c < C; c++) {
      out[bt * C + c] = wte[id * C + c] + (wpe ? wpe[(pos0 + (bt % T)) * C + c] : 0);
    }
  }
  return { out, cache: { ids, B, T, C, V, maxT: wpe ? wpe.length / C : 0, pos0 } };
}

export function backward(dout: Float64Array, cache: EmbeddingCache): { dwte: Float64Array; dwpe: Float64Array | null } {
  const { ids, B, T, C, V, maxT, pos0 } = cache;
  const dwte = new Float64Array(V * C);
  const dwpe = maxT ? new Float64Array(maxT * C) : null;
  for (let bt = 0; bt < B * T; bt++) {
    for (let c = 0; c < C; c++) {
      dwte[ids[bt] * C + c] += dout[bt * C + c];
      if (dwpe) dwpe[(pos0 + (bt % T)) * C + c] += dout[bt * C + c];
    }
  }
  return { dwte, dwpe };
}

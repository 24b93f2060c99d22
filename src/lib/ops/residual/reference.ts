// CPU reference for the residual add (float64, plain loops): out = inp1 + inp2.

export interface ResidualCache {
  N: number;
}

export function forward(inp1: Float64Array, inp2: Float64Array): { out: Float64Array; cache: ResidualCache } {
  const N = inp1.length;
  if (inp2.length !== N) throw new Error('residual: inputs differ in size');
  const out = new Float64Array(N);
  for (let i = 0; i < N; i++) out[i] = inp1[i] + inp2[i];
  return { out, cache: { N } };
}

/** The gradient flows unchanged to both inputs. */
export function backward(dout: Float64Array, cache: ResidualCache): { dinp1: Float64Array; dinp2: Float64Array } {
  const dinp1 = new Float64Array(cache.N);
  const dinp2 = new Float64Array(cache.N);
  for (let i = 0; i < cache.N; i++) {
    dinp1[i] = dout[i];
    dinp2[i] = dout[i];
  }
  return { dinp1, dinp2 };
}

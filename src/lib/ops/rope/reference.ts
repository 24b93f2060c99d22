// Rotary position embedding, plain loops in float64, in Hugging Face's rotate-half convention
// (LlamaRotaryEmbedding + apply_rotary_pos_emb): with h = HS/2 and f_i = theta^(-2i/HS),
//   out[i]   = x[i]·cos(p·f_i) - x[i+h]·sin(p·f_i)
//   out[i+h] = x[i+h]·cos(p·f_i) + x[i]·sin(p·f_i)          for i < h,
// where p = positions[b,t] + offset is the token's position (prefix tuning starts real tokens at P).

export interface RopeCache {
  positions: Int32Array; // (B,T)
  B: number;
  T: number;
  NH: number;
  HS: number;
  theta: number;
  offset: number;
}

function angle(p: number, i: number, HS: number, theta: number): number {
  return p * Math.pow(theta, (-2 * i) / HS);
}

function rotate(
  x: Float64Array, // (B,T,NH,HS)
  c: RopeCache,
  direction: 1 | -1, // +1 rotates by +angle (forward), -1 by -angle (its inverse = transpose)
): Float64Array {
  const { positions, B, T, NH, HS, theta, offset } = c;
  const h = HS / 2;
  const out = new Float64Array(B * T * NH * HS); // (B,T,NH,HS)
  for (let bt = 0; bt < B * T; bt++) {
    const p = positions[bt] + offset;
    for (let head = 0; head < NH; head++) {
      const base = (bt * NH + head) * HS;
      for (let i = 0; i < h; i++) {
        const a = angle(p, i, HS, theta);
        const cos = Math.cos(a);
        const sin = direction * Math.sin(a);
        const x1 = x[base + i];
        const x2 = x[base + i + h];
        out[base + i] = x1 * cos - x2 * sin;
        out[base + i + h] = x2 * cos + x1 * sin;
      }
    }
  }
  return out;
}

export function forward(
  inp: Float64Array, // (B,T,NH,HS)
  positions: Int32Array, // (B,T)
  B: number,
  T: number,
  NH: number,
  HS: number,
  theta: number,
  offset = 0,
): { out: Float64Array; cache: RopeCache } {
  if (HS % 2 !== 0) throw new Error(`rope: head size ${HS} must be even`);
  const cache: RopeCache = { positions, B, T, NH, HS, theta, offset };
  return { out: rotate(inp, cache, 1), cache };
}

// The rotation is orthogonal, so the gradient is the inverse rotation: dinp = R(-angle)·dout.
export function backward(dout: Float64Array, cache: RopeCache): { dinp: Float64Array } {
  return { dinp: rotate(dout, cache, -1) };
}

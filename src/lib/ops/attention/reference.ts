// Causal self-attention in plain float64 loops: the truth the WGSL kernels are tested against.
// Grouped-query attention (query head h reads kv head h / (NH/NKV)), scale 1/sqrt(HS), causal mask,
// and optional prefix keys/values (PEFT prefix tuning) that every query of every batch row sees.

/** Shapes: q (B,T,NH,HS), k and v (B,T,NKV,HS), prefix pk and pv (P,NKV,HS) with P = 0 for none. */
export interface AttentionShape {
  B: number;
  T: number;
  NH: number;
  NKV: number;
  HS: number;
  /** number of prefix positions (0: no prefix) */
  P: number;
}

export interface AttentionCache {
  shape: AttentionShape;
  q: Float64Array; // (B,T,NH,HS)
  k: Float64Array; // (B,T,NKV,HS)
  v: Float64Array; // (B,T,NKV,HS)
  pk: Float64Array; // (P,NKV,HS)
  pv: Float64Array; // (P,NKV,HS)
  /** softmax probabilities over the P+T key positions [prefix 0..P-1 | tokens 0..T-1]; 0 where masked */
  att: Float64Array; // (B,NH,T,P+T)
  /** log-sum-exp of each query row's scaled scores (what the GPU forward saves for its backward) */
  lse: Float64Array; // (B,NH,T)
}

export interface AttentionGrads {
  dq: Float64Array; // (B,T,NH,HS)
  dk: Float64Array; // (B,T,NKV,HS)
  dv: Float64Array; // (B,T,NKV,HS)
  dpk: Float64Array; // (P,NKV,HS), summed over the batch
  dpv: Float64Array; // (P,NKV,HS), summed over the batch
}

/** The key (or value) row of key position j in [prefix | tokens], for batch row b and kv head g. */
function keyRow(j: number, b: number, g: number, x: Float64Array, px: Float64Array, s: AttentionShape): [Float64Array, number] {
  const { T, NKV, HS, P } = s;
  return j < s.P ? [px, (j * NKV + g) * HS] : [x, ((b * T + (j - P)) * NKV + g) * HS];
}

/**
 * out[b,t,h,:] = sum_j softmax_j(q[b,t,h]·key_j / sqrt(HS)) value_j over the keys query t sees:
 * all P prefix positions, then tokens 0..t.
 */
export function forward(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  shape: AttentionShape,
  pk: Float64Array = new Float64Array(0),
  pv: Float64Array = new Float64Array(0),
): { out: Float64Array; cache: AttentionCache } {
  const { B, T, NH, NKV, HS, P } = shape;
  if (NH % NKV !== 0) throw new Error(`attention: NH=${NH} is not a multiple of NKV=${NKV}`);
  if (q.length !== B * T * NH * HS) throw new Error('attention: q has the wrong size');
  if (k.length !== B * T * NKV * HS || v.length !== k.length) throw new Error('attention: k/v have the wrong size');
  if (pk.length !== P * NKV * HS || pv.length !== pk.length) throw new Error('attention: pk/pv have the wrong size');
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(HS);
  const L = P + T;
  const out = new Float64Array(B * T * NH * HS);
  const att = new Float64Array(B * NH * T * L);
  const lse = new Float64Array(B * NH * T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const g = Math.floor(h / group);
      for (let t = 0; t < T; t++) {
        const qo = ((b * T + t) * NH + h) * HS;
        const row = ((b * NH + h) * T + t) * L;
        const visible = P + t + 1; // key positions 0..visible-1
        let max = -Infinity;
        for (let j = 0; j < visible; j++) {
          const [kx, ko] = keyRow(j, b, g, k, pk, shape);
          let s = 0;
          for (let d = 0; d < HS; d++) s += q[qo + d] * kx[ko + d];
          att[row + j] = s * scale;
          max = Math.max(max, s * scale);
        }
        let sum = 0;
        for (let j = 0; j < visible; j++) {
          att[row + j] = Math.exp(att[row + j] - max);
          sum += att[row + j];
        }
        lse[(b * NH + h) * T + t] = max + Math.log(sum);
        for (let j = 0; j < visible; j++) {
          att[row + j] /= sum;
          const [vx, vo] = keyRow(j, b, g, v, pv, shape);
          for (let d = 0; d < HS; d++) out[qo + d] += att[row + j] * vx[vo + d];
        }
      }
    }
  }
  return { out, cache: { shape, q, k, v, pk, pv, att, lse } };
}

/**
 * With p = att[b,h,t,:] and s the scaled scores:
 *   dvalue_j += p_j dout,   dp_j = dout·value_j,   ds_j = p_j (dp_j - sum_i p_i dp_i),
 *   dq += scale · ds_j key_j,   dkey_j += scale · ds_j q.
 * Prefix gradients accumulate over every batch row and every query head of the group.
 */
export function backward(dout: Float64Array, cache: AttentionCache): AttentionGrads {
  const { shape, q, k, v, pk, pv, att } = cache;
  const { B, T, NH, NKV, HS, P } = shape;
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(HS);
  const L = P + T;
  const grads: AttentionGrads = {
    dq: new Float64Array(q.length),
    dk: new Float64Array(k.length),
    dv: new Float64Array(v.length),
    dpk: new Float64Array(pk.length),
    dpv: new Float64Array(pv.length),
  };
  const dp = new Float64Array(L);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const g = Math.floor(h / group);
      for (let t = 0; t < T; t++) {
        const qo = ((b * T + t) * NH + h) * HS;
        const row = ((b * NH + h) * T + t) * L;
        const visible = P + t + 1;
        let pdp = 0; // sum_j p_j dp_j
        for (let j = 0; j < visible; j++) {
          const [vx, vo] = keyRow(j, b, g, v, pv, shape);
          const [dvx, dvo] = keyRow(j, b, g, grads.dv, grads.dpv, shape);
          let s = 0;
          for (let d = 0; d < HS; d++) {
            s += dout[qo + d] * vx[vo + d];
            dvx[dvo + d] += att[row + j] * dout[qo + d];
          }
          dp[j] = s;
          pdp += att[row + j] * s;
        }
        for (let j = 0; j < visible; j++) {
          const ds = att[row + j] * (dp[j] - pdp) * scale;
          const [kx, ko] = keyRow(j, b, g, k, pk, shape);
          const [dkx, dko] = keyRow(j, b, g, grads.dk, grads.dpk, shape);
          for (let d = 0; d < HS; d++) {
            grads.dq[qo + d] += ds * kx[ko + d];
            dkx[dko + d] += ds * q[qo + d];
          }
        }
      }
    }
  }
  return grads;
}

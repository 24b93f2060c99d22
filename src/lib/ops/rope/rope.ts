// Rotary position embedding (Llama, Qwen2, SmolLM2) in Hugging Face's rotate-half convention, on
// q (B,T,NH,HS) or k (B,T,NKV,HS): call it once per tensor. Angles come from a (n_pos, HS/2) table of
// (cos, sin) built once per model by ropeTable(); a token's position is positions[b,t] + offset.
import { grid1d, numel, params, i32, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import ropeWgsl from './rope.wgsl?raw';

const WG = 256;
// One kernel for both passes: the backward is the inverse rotation (see rope.wgsl).
const ROPE: Kernel = { name: 'rope', file: 'src/lib/ops/rope/rope.wgsl', code: ropeWgsl };

/**
 * The (cos, sin) table, shape (nPositions, HS/2, 2), for the default rope type (rope_scaling null):
 * angle(p, i) = p · theta^(-2i/HS), then cos and sin rounded to float32.
 * - angles 'float64' (default): exact angles, as models/recipe/model.py (our fixtures, our ONNX export).
 * - angles 'float32': rounded at the same steps as transformers' LlamaRotaryEmbedding (inv_freq in
 *   float32, then inv_freq·p in float32). The two differ by about p·2^-24 rad (1e-4 at p = 2048).
 * nPositions: config.max_position_embeddings (plus any prefix length).
 */
export function ropeTable(
  nPositions: number,
  HS: number,
  theta: number,
  opts: { angles?: 'float64' | 'float32' } = {},
): Float32Array {
  if (HS % 2 !== 0) throw new Error(`ropeTable: head size ${HS} must be even`);
  const h = HS / 2;
  const f32 = opts.angles === 'float32';
  const fr = f32 ? Math.fround : (x: number) => x;
  const invFreq = new Float64Array(h);
  for (let i = 0; i < h; i++) invFreq[i] = fr(1 / fr(Math.pow(fr(theta), fr((2 * i) / HS))));
  const table = new Float32Array(nPositions * h * 2);
  for (let p = 0; p < nPositions; p++) {
    for (let i = 0; i < h; i++) {
      const angle = fr(invFreq[i] * p);
      table[(p * h + i) * 2] = Math.cos(angle);
      table[(p * h + i) * 2 + 1] = Math.sin(angle);
    }
  }
  return table;
}

/** positions (B,T) = start, start+1, ... for every sequence (the usual case; packing may restart them). */
export function ropePositions(B: number, T: number, start = 0): Int32Array {
  return Int32Array.from({ length: B * T }, (_, i) => start + (i % T));
}

function shape(op: string, x: Tensor, positions: Tensor, table: Tensor) {
  if (x.shape.length < 2) throw new Error(`${op}: [${x.shape}] should be (B,T,NH,HS)`);
  const HS = x.shape[x.shape.length - 1];
  const NH = x.shape[x.shape.length - 2];
  if (HS % 2 !== 0) throw new Error(`${op}: head size ${HS} must be even`);
  const BT = numel(x.shape) / (NH * HS);
  if (numel(positions.shape) !== BT || positions.dtype !== 'i32') {
    throw new Error(`${op}: positions ${positions.dtype}[${positions.shape}] should be i32 with B*T=${BT} values`);
  }
  const nPos = numel(table.shape) / HS;
  if (!Number.isInteger(nPos) || table.shape[table.shape.length - 1] !== 2) {
    throw new Error(`${op}: table [${table.shape}] should be (n_pos, ${HS / 2}, 2) from ropeTable()`);
  }
  return { N: BT * NH * (HS / 2), NH, HS, nPos };
}

/**
 * out (B,T,NH,HS) = inp rotated by each token's position positions[b,t] + offset (i32 (B,T)).
 * A position outside the table gives NaN, loudly. `out` must not share a buffer with the inputs.
 */
export function ropeForward(
  rec: Recorder,
  out: Tensor,
  inp: Tensor,
  positions: Tensor,
  table: Tensor,
  opts: { offset?: number } = {},
): void {
  const s = shape('ropeForward', inp, positions, table);
  if (numel(out.shape) !== numel(inp.shape)) throw new Error(`ropeForward: out [${out.shape}] differs from inp [${inp.shape}]`);
  rec.dispatch({
    kernel: ROPE,
    overrides: { WG, INVERSE: 0, ACCUMULATE: 0 },
    outputs: [out],
    inputs: [inp, positions, table],
    params: params(s.N, s.NH, s.HS, s.nPos, i32(opts.offset ?? 0)),
    workgroups: grid1d(s.N, WG),
  });
}

/** dinp (B,T,NH,HS) += dout rotated back (accumulate: false overwrites). Same positions, table, offset. */
export function ropeBackward(
  rec: Recorder,
  dinp: Tensor,
  dout: Tensor,
  positions: Tensor,
  table: Tensor,
  opts: { offset?: number; accumulate?: boolean } = {},
): void {
  const s = shape('ropeBackward', dout, positions, table);
  if (numel(dinp.shape) !== numel(dout.shape)) throw new Error(`ropeBackward: dinp [${dinp.shape}] differs from dout [${dout.shape}]`);
  rec.dispatch({
    kernel: ROPE,
    overrides: { WG, INVERSE: 1, ACCUMULATE: opts.accumulate === false ? 0 : 1 },
    outputs: [dinp],
    inputs: [dout, positions, table],
    params: params(s.N, s.NH, s.HS, s.nPos, i32(opts.offset ?? 0)),
    workgroups: grid1d(s.N, WG),
  });
}

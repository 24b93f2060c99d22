// Causal self-attention with grouped-query heads and optional prefix keys/values (prefix tuning),
// flash-attention style: the forward saves only lse = log-sum-exp of each query row's scores (B,NH,T),
// and the backward recomputes the probabilities from it, tile by tile, never materialising (T,T).
//
//   forward   out (B,T,NH,HS), lse (B,NH,T)  <-  q (B,T,NH,HS), k, v (B,T,NKV,HS) [, prefix]
//   decode    the same kernel with k, v read from a KV cache (B,maxT,NKV,HS) and queries at positions
//             past..past+T-1 (forward only)
//   backward  delta = rowsum(dout*out) (B,NH,T) -> dq -> dk, dv -> [prefix: per-batch partials -> dprefix]
//
// Every backward output element is owned by one invocation (or summed in a fixed order from
// per-batch partials), so results are deterministic; no atomics.
import { grid1d, numel, params, f32, reshape, type Gpu, type Kernel, type Overrides, type Recorder, type Tensor } from '../../gpu/index.ts';
import forwardWgsl from './forward.wgsl?raw';
import backwardDeltaWgsl from './backward_delta.wgsl?raw';
import backwardDqWgsl from './backward_dq.wgsl?raw';
import backwardDkvWgsl from './backward_dkv.wgsl?raw';
import backwardPrefixReduceWgsl from './backward_prefix_reduce.wgsl?raw';

const DIR = 'src/lib/ops/attention';
const FORWARD: Kernel = { name: 'attention_forward', file: `${DIR}/forward.wgsl`, code: forwardWgsl };
const BACKWARD_DELTA: Kernel = { name: 'attention_backward_delta', file: `${DIR}/backward_delta.wgsl`, code: backwardDeltaWgsl };
const BACKWARD_DQ: Kernel = { name: 'attention_backward_dq', file: `${DIR}/backward_dq.wgsl`, code: backwardDqWgsl };
const BACKWARD_DKV: Kernel = { name: 'attention_backward_dkv', file: `${DIR}/backward_dkv.wgsl`, code: backwardDkvWgsl };
const BACKWARD_PREFIX_REDUCE: Kernel = {
  name: 'attention_backward_prefix_reduce',
  file: `${DIR}/backward_prefix_reduce.wgsl`,
  code: backwardPrefixReduceWgsl,
};

const WG = 64; // the elementwise passes (delta, prefix reduce)
/** Private accumulators per invocation in the tiled kernels (MAX_COLS in the .wgsl files). */
const MAX_COLS = 32;

/**
 * Prefix keys and values shared by every batch row (one layer's share of PEFT prefix tuning).
 * Prefix row p's key (NKV,HS) starts at element `offset + p*stride` of `kv`, its value NKV*HS later.
 * A tensor shaped (P,2,NKV,HS) is offset 0, stride 2*NKV*HS (the defaults). PEFT's
 * prompt_embeddings (P, L*2*NKV*HS) serves layer l directly with offset 2*l*NKV*HS, stride L*2*NKV*HS.
 */
export interface AttentionPrefix {
  kv: Tensor;
  P: number;
  offset?: number;
  stride?: number;
}

interface Shape {
  B: number;
  T: number; // queries
  NH: number;
  NKV: number;
  HS: number;
  kvT: number; // time extent of k/v
}

function dims(op: string, q: Tensor, k: Tensor, v: Tensor): Shape {
  if (q.shape.length !== 4 || k.shape.length !== 4) throw new Error(`${op}: q [${q.shape}] and k [${k.shape}] must be 4-D`);
  const [B, T, NH, HS] = q.shape;
  const [Bk, kvT, NKV, HSk] = k.shape;
  if (Bk !== B || HSk !== HS) throw new Error(`${op}: k [${k.shape}] does not match q [${q.shape}]`);
  if (v.shape.join() !== k.shape.join()) throw new Error(`${op}: v [${v.shape}] differs from k [${k.shape}]`);
  if (NH % NKV !== 0) throw new Error(`${op}: NH=${NH} is not a multiple of NKV=${NKV}`);
  return { B, T, NH, NKV, HS, kvT };
}

function expectShape(op: string, name: string, t: Tensor, shape: number[]): void {
  if (t.shape.join() !== shape.join()) throw new Error(`${op}: ${name} is [${t.shape}], expected [${shape}]`);
}

/** Where the prefix sits in its tensor; with no prefix, P = 0 and `kv` is a stand-in that is never read. */
function prefixLayout(op: string, s: Shape, prefix: AttentionPrefix | undefined, standIn: Tensor) {
  if (!prefix || prefix.P === 0) return { kv: standIn, P: 0, offset: 0, stride: 0 };
  const row = s.NKV * s.HS;
  const offset = prefix.offset ?? 0;
  const stride = prefix.stride ?? 2 * row;
  if (stride < 2 * row) throw new Error(`${op}: prefix stride ${stride} is shorter than a key and a value (${2 * row})`);
  if (offset + (prefix.P - 1) * stride + 2 * row > numel(prefix.kv.shape)) {
    throw new Error(`${op}: prefix of P=${prefix.P} at offset ${offset}, stride ${stride} overruns [${prefix.kv.shape}]`);
  }
  return { kv: prefix.kv, P: prefix.P, offset, stride };
}

/**
 * Tile sizes for a kernel: the first preferred (BQ, BK) whose workgroup memory fits the device, with
 * LANES invocations per row (a divisor of HS leaving at most MAX_COLS columns each) and the shared
 * tiles sized for MAX_HS = 64 or 128 (one pipeline per class, not per head size).
 */
function tiles(op: string, gpu: Gpu, HS: number, bytes: (BQ: number, BK: number, M: number) => number, prefer: [number, number][]): Overrides {
  const MAX_HS = HS <= 64 ? 64 : 128;
  const LANES = [4, 2, 1].find((l) => HS % l === 0 && HS / l <= MAX_COLS);
  if (HS > 128 || LANES === undefined) throw new Error(`${op}: head size ${HS} is not supported (at most 128, and 4·32 columns per row)`);
  const limit = gpu.limits.maxComputeWorkgroupStorageSize;
  const candidates: [number, number][] = [...prefer, [8, 8], [4, 8], [4, 4]];
  for (const [BQ, BK] of candidates) {
    if (bytes(BQ, BK, MAX_HS) <= limit) return { BQ, BK, LANES, MAX_HS };
  }
  throw new Error(`${op}: no tile of head size ${HS} fits ${limit} bytes of workgroup memory`);
}

// Workgroup memory of each tiled kernel, in bytes, mirroring its var<workgroup> declarations.
const FORWARD_BYTES = (BQ: number, BK: number, M: number) => 4 * (BQ * (M + 1) + BK * (M + 1) + BK * M + BQ * BK);
const DQ_BYTES = (BQ: number, BK: number, M: number) => 4 * (2 * BQ * (M + 1) + 2 * BK * (M + 1) + BQ * BK);
const DKV_BYTES = (BQ: number, BK: number, M: number) => 4 * (2 * BK * (M + 1) + 2 * BQ * (M + 1) + 2 * BK * BQ + 2 * BQ);

function encodeForward(
  op: string,
  rec: Recorder,
  out: Tensor,
  lse: Tensor,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  past: number,
  prefix: AttentionPrefix | undefined,
): void {
  const s = dims(op, q, k, v);
  expectShape(op, 'out', out, [s.B, s.T, s.NH, s.HS]);
  expectShape(op, 'lse', lse, [s.B, s.NH, s.T]);
  if (past + s.T > s.kvT) throw new Error(`${op}: past ${past} + ${s.T} queries overrun the ${s.kvT} cached positions`);
  const pre = prefixLayout(op, s, prefix, k);
  const overrides = tiles(op, rec.gpu, s.HS, FORWARD_BYTES, [[16, 16], [16, 8]]);
  rec.dispatch({
    kernel: FORWARD,
    overrides,
    outputs: [out, lse],
    inputs: [q, k, v, pre.kv],
    params: params(s.B, s.T, s.NH, s.NKV, s.HS, pre.P, past, s.kvT, pre.offset, pre.stride, f32(1 / Math.sqrt(s.HS))),
    workgroups: [Math.ceil(s.T / overrides.BQ), s.NH, s.B],
  });
}

/**
 * Training forward: out (B,T,NH,HS) = causal softmax(q kᵀ/√HS) v per head, query head h reading kv
 * head h/(NH/NKV), every query also seeing all P prefix positions. lse (B,NH,T) is saved for
 * attentionBackward. q (B,T,NH,HS); k, v (B,T,NKV,HS) (already RoPE-rotated).
 */
export function attentionForward(
  rec: Recorder,
  out: Tensor,
  lse: Tensor,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: { prefix?: AttentionPrefix } = {},
): void {
  if (k.shape[1] !== q.shape[1]) {
    throw new Error(`attentionForward: k has ${k.shape[1]} positions, q ${q.shape[1]} (use attentionDecode for a KV cache)`);
  }
  encodeForward('attentionForward', rec, out, lse, q, k, v, 0, opts.prefix);
}

/**
 * KV-cache forward (generation): q (B,Tn,NH,HS) holds the queries of positions past..past+Tn-1;
 * kCache, vCache (B,maxT,NKV,HS) hold keys/values of positions 0..past+Tn-1 (the new ones already
 * written); later positions are ignored. out (B,Tn,NH,HS); lse (B,NH,Tn) is written too, or goes
 * to gpu.scratch when null. With a prefix, every query also sees its P positions.
 */
export function attentionDecode(
  rec: Recorder,
  out: Tensor,
  lse: Tensor | null,
  q: Tensor,
  kCache: Tensor,
  vCache: Tensor,
  past: number,
  opts: { prefix?: AttentionPrefix } = {},
): void {
  const [B, Tn, NH] = q.shape;
  const lseOut = lse ?? reshape(rec.gpu.scratch('attention:decode-lse', B * NH * Tn), [B, NH, Tn]);
  encodeForward('attentionDecode', rec, out, lseOut, q, kCache, vCache, past, opts.prefix);
}

/**
 * Training backward: dq (B,T,NH,HS), dk and dv (B,T,NKV,HS) and, with a prefix, dprefix (laid out
 * like prefix.kv: same shape, offset and stride) receive the gradients of attentionForward, given
 * dout (B,T,NH,HS) and the forward's out and lse. Gradients are added to what the tensors hold
 * (llm.c: zeroed once per step) unless `accumulate: false`, which overwrites them. dprefix is the
 * sum over the batch rows. Scratch (delta (B,NH,T) and, with a prefix, per-batch partials
 * (B,P,NKV,HS) for keys and values) comes from gpu.scratch('attention:*').
 */
export function attentionBackward(
  rec: Recorder,
  dq: Tensor,
  dk: Tensor,
  dv: Tensor,
  dprefix: Tensor | null,
  dout: Tensor,
  out: Tensor,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  lse: Tensor,
  opts: { prefix?: AttentionPrefix; accumulate?: boolean } = {},
): void {
  const op = 'attentionBackward';
  const s = dims(op, q, k, v);
  const { B, T, NH, NKV, HS } = s;
  if (s.kvT !== T) throw new Error(`${op}: k has ${s.kvT} positions, q ${T}`);
  for (const [name, t] of [['dq', dq], ['dout', dout], ['out', out]] as const) expectShape(op, name, t, [B, T, NH, HS]);
  for (const [name, t] of [['dk', dk], ['dv', dv]] as const) expectShape(op, name, t, [B, T, NKV, HS]);
  expectShape(op, 'lse', lse, [B, NH, T]);
  const delta = reshape(rec.gpu.scratch('attention:delta', B * NH * T), [B, NH, T]);
  const pre = prefixLayout(op, s, opts.prefix, k);
  const ACCUMULATE = opts.accumulate === false ? 0 : 1;
  const scale = f32(1 / Math.sqrt(HS));

  rec.dispatch({
    kernel: BACKWARD_DELTA,
    overrides: { WG },
    outputs: [delta],
    inputs: [dout, out],
    params: params(B, T, NH, HS),
    workgroups: grid1d(B * T * NH, WG),
  });

  const dqTiles = tiles(op, rec.gpu, HS, DQ_BYTES, [[16, 8]]);
  rec.dispatch({
    kernel: BACKWARD_DQ,
    overrides: { ...dqTiles, ACCUMULATE },
    outputs: [dq],
    inputs: [dout, q, k, v, pre.kv, lse, delta],
    params: params(B, T, NH, NKV, HS, pre.P, 0, T, pre.offset, pre.stride, scale),
    workgroups: [Math.ceil(T / dqTiles.BQ), NH, B],
  });

  const dkvTiles = tiles(op, rec.gpu, HS, DKV_BYTES, [[8, 16]]);
  const row = NKV * HS;
  // Token keys: causal, straight into dk and dv.
  rec.dispatch({
    kernel: BACKWARD_DKV,
    overrides: { ...dkvTiles, ACCUMULATE },
    outputs: [dk, dv],
    inputs: [dout, q, k, v, lse, delta],
    params: params(B, T, NH, NKV, HS, T, 0, 0, T * row, row, 1, scale),
    workgroups: [Math.ceil(T / dkvTiles.BK), NKV, B],
  });

  if (pre.P === 0) return;
  if (!dprefix) throw new Error(`${op}: a prefix needs dprefix (or pass no prefix)`);
  if (dprefix.shape.join() !== pre.kv.shape.join()) throw new Error(`${op}: dprefix [${dprefix.shape}] should match prefix [${pre.kv.shape}]`);
  const dpk = reshape(rec.gpu.scratch('attention:dpk', B * pre.P * row), [B, pre.P, NKV, HS]);
  const dpv = reshape(rec.gpu.scratch('attention:dpv', B * pre.P * row), [B, pre.P, NKV, HS]);
  // Prefix keys: seen by every query; one partial per batch row, then an ordered sum over b.
  rec.dispatch({
    kernel: BACKWARD_DKV,
    overrides: { ...dkvTiles, ACCUMULATE: 0 },
    outputs: [dpk, dpv],
    inputs: [dout, q, pre.kv, pre.kv, lse, delta],
    params: params(B, T, NH, NKV, HS, pre.P, pre.offset, pre.offset + row, 0, pre.stride, 0, scale),
    workgroups: [Math.ceil(pre.P / dkvTiles.BK), NKV, B],
  });
  rec.dispatch({
    kernel: BACKWARD_PREFIX_REDUCE,
    overrides: { WG, ACCUMULATE },
    outputs: [dprefix],
    inputs: [dpk, dpv],
    params: params(B, pre.P, NKV, HS, pre.offset, pre.stride),
    workgroups: grid1d(pre.P * 2 * row, WG),
  });
}

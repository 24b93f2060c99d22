// Embedding lookup: out (B,T,C) = wte[ids] (+ wpe[pos0 + t] for GPT-2's learned positions), and
// its deterministic backward into dwte (grouped by token on the CPU, as llm.c) and dwpe.
import {
  createTensor,
  grid1d,
  numel,
  params,
  view,
  writeTensor,
  type Gpu,
  type Kernel,
  type Recorder,
  type Tensor,
} from '../../gpu/index.ts';
import forwardWgsl from './forward.wgsl?raw';
import backwardWgsl from './backward.wgsl?raw';
import backwardPosWgsl from './backward_pos.wgsl?raw';

const FORWARD: Kernel = { name: 'embedding_forward', file: 'src/lib/ops/embedding/forward.wgsl', code: forwardWgsl };
const BACKWARD: Kernel = { name: 'embedding_backward', file: 'src/lib/ops/embedding/backward.wgsl', code: backwardWgsl };
const BACKWARD_POS: Kernel = { name: 'embedding_backward_pos', file: 'src/lib/ops/embedding/backward_pos.wgsl', code: backwardPosWgsl };

function dims(op: string, ids: Tensor, C: number) {
  if (ids.dtype !== 'i32') throw new Error(`${op}: ids must be i32, got ${ids.dtype}`);
  const [B, T] = ids.shape.length === 2 ? ids.shape : [1, ids.shape[0]];
  return { B, T, BT: B * T, C };
}

/** out (B,T,C) = wte[ids] (+ wpe[pos0 + t]); ids (B,T) i32, wte (V,C), wpe (maxT,C). */
export function embeddingForward(
  rec: Recorder,
  out: Tensor,
  ids: Tensor,
  wte: Tensor,
  opts: { wpe?: Tensor; pos0?: number } = {},
): void {
  const [V, C] = wte.shape;
  const { T, BT } = dims('embeddingForward', ids, C);
  const pos0 = opts.pos0 ?? 0;
  if (numel(out.shape) !== BT * C) throw new Error(`embeddingForward: out [${out.shape}] is not ${BT}×${C}`);
  if (opts.wpe && (opts.wpe.shape[1] !== C || opts.wpe.shape[0] < pos0 + T)) {
    throw new Error(`embeddingForward: wpe [${opts.wpe.shape}] has no rows ${pos0}..${pos0 + T - 1} of width ${C}`);
  }
  rec.dispatch({
    kernel: FORWARD,
    overrides: { WG: 256 },
    outputs: [out],
    inputs: [ids, wte, opts.wpe ?? rec.gpu.scratch('embedding:nowpe', 1)],
    params: params(BT, T, C, V, opts.wpe ? 1 : 0, pos0),
    workgroups: grid1d(BT * C, 256),
  });
}

/** Positions grouped by token: bucket u holds token bucketIds[u] at positions[starts[u]..starts[u+1]). */
export interface TokenBuckets {
  bucketIds: Int32Array;
  starts: Int32Array;
  positions: Int32Array;
}

/** Groups the flat positions of `ids` by token, tokens ascending and positions ascending (CPU). */
export function tokenBuckets(ids: ArrayLike<number>): TokenBuckets {
  const order = Array.from({ length: ids.length }, (_, i) => i);
  order.sort((x, y) => ids[x] - ids[y] || x - y);
  const bucketIds: number[] = [];
  const starts: number[] = [];
  order.forEach((pos, j) => {
    if (j === 0 || ids[pos] !== ids[order[j - 1]]) {
      bucketIds.push(ids[pos]);
      starts.push(j);
    }
  });
  starts.push(order.length);
  return { bucketIds: Int32Array.from(bucketIds), starts: Int32Array.from(starts), positions: Int32Array.from(order) };
}

/** TokenBuckets on the GPU, with room for `capacity` = B·T positions; `count` buckets are in use. */
export interface BucketTensors {
  bucketIds: Tensor; // (capacity)
  starts: Tensor; // (capacity + 1)
  positions: Tensor; // (capacity)
  count: number;
}

export function createTokenBuckets(gpu: Gpu, capacity: number): BucketTensors {
  return {
    bucketIds: createTensor(gpu, [capacity], 'i32', 'embedding:bucketIds'),
    starts: createTensor(gpu, [capacity + 1], 'i32', 'embedding:starts'),
    positions: createTensor(gpu, [capacity], 'i32', 'embedding:positions'),
    count: 0,
  };
}

/** Computes the buckets of this batch's ids and queues their upload (before the next submit). */
export function writeTokenBuckets(gpu: Gpu, t: BucketTensors, ids: ArrayLike<number>): void {
  if (ids.length > t.positions.shape[0]) throw new Error(`writeTokenBuckets: ${ids.length} ids, capacity ${t.positions.shape[0]}`);
  const b = tokenBuckets(ids);
  if (ids.length === 0) {
    t.count = 0;
    return;
  }
  writeTensor(gpu, view(t.bucketIds, [b.bucketIds.length]), b.bucketIds);
  writeTensor(gpu, view(t.starts, [b.starts.length]), b.starts);
  writeTensor(gpu, view(t.positions, [b.positions.length]), b.positions);
  t.count = b.bucketIds.length;
}

export function destroyTokenBuckets(t: BucketTensors): void {
  for (const x of [t.bucketIds, t.starts, t.positions]) x.buffer.destroy();
}

/**
 * dwte (V,C) and/or dwpe (maxT,C) from dout (B,T,C). dwte needs this batch's token buckets
 * (writeTokenBuckets with the same ids as the forward). Overwrites unless `accumulate`.
 */
export function embeddingBackward(
  rec: Recorder,
  grads: { dwte?: Tensor; dwpe?: Tensor },
  dout: Tensor,
  opts: { buckets?: BucketTensors; B: number; T: number; pos0?: number; accumulate?: boolean },
): void {
  const { B, T } = opts;
  const C = dout.shape[dout.shape.length - 1];
  if (numel(dout.shape) !== B * T * C) throw new Error(`embeddingBackward: dout [${dout.shape}] is not ${B}×${T}×C`);
  const pos0 = opts.pos0 ?? 0;
  if (grads.dwte) {
    if (!opts.buckets) throw new Error('embeddingBackward: dwte needs the token buckets (writeTokenBuckets)');
    if (!opts.accumulate) rec.clear(grads.dwte);
    rec.dispatch({
      kernel: BACKWARD,
      overrides: { WG: 64 },
      outputs: [grads.dwte],
      inputs: [dout, opts.buckets.bucketIds, opts.buckets.starts, opts.buckets.positions],
      params: params(opts.buckets.count, C),
      workgroups: grid1d(opts.buckets.count, 1),
    });
  }
  if (grads.dwpe) {
    if (grads.dwpe.shape[0] < pos0 + T) throw new Error(`embeddingBackward: dwpe [${grads.dwpe.shape}] has no rows ${pos0}..${pos0 + T - 1}`);
    if (!opts.accumulate) rec.clear(grads.dwpe);
    rec.dispatch({
      kernel: BACKWARD_POS,
      overrides: { WG: 256 },
      outputs: [grads.dwpe],
      inputs: [dout],
      params: params(B, T, C, pos0),
      workgroups: grid1d(T * C, 256),
    });
  }
}

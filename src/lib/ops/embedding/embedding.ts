// Embedding lookups: token rows of wte (plus learned positions, GPT-2's wpe) into the residual
// stream, rows of any tensor gathered by index (the classifier's counted rows), and the deterministic
// backward of both (grouped by row on the CPU, as llm.c: no float atomics).
//
// A table bigger than one storage binding is stored as row chunks (model/params.ts), the model's
// RowChunks: each chunk's dispatch handles the ids that fall in it.
import { createTensor, grid1d, i32, numel, params, view, writeTensor, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import type { RowChunks } from '../../model/bindings.ts';
import forwardWgsl from './forward.wgsl?raw';
import backwardWgsl from './backward.wgsl?raw';

const FORWARD: Kernel = { name: 'embedding_forward', file: 'src/lib/ops/embedding/forward.wgsl', code: forwardWgsl };
const BACKWARD: Kernel = { name: 'embedding_backward', file: 'src/lib/ops/embedding/backward.wgsl', code: backwardWgsl };
const WG = 256;
const WG_BACKWARD = 64;

/** out (N,C) (+)= rows idx[n] + offset of one chunk of a table (those it holds); the table f32 or f16. */
function lookup(rec: Recorder, out: Tensor, idx: Tensor, chunk: RowChunks['chunks'][number], offset: number, accumulate: boolean): void {
  const N = numel(idx.shape);
  const C = numel(out.shape) / N;
  const f16 = chunk.tensor.dtype === 'f16';
  if (!f16 && chunk.tensor.dtype !== 'f32') throw new Error(`embedding: table ${chunk.tensor.dtype} is neither f32 nor f16`);
  rec.dispatch({
    kernel: FORWARD,
    overrides: { WG, ACCUMULATE: accumulate ? 1 : 0, ...(f16 ? { TABLE_F16: 1 } : {}) },
    outputs: [out],
    inputs: [idx, chunk.tensor],
    params: params(N, C, chunk.rowStart, chunk.rows, i32(offset)),
    workgroups: grid1d(N * C, WG),
  });
}

/**
 * out (N,C) = wte[ids] (+ wpe[positions + offset]); ids and positions (N) i32, wte (V,C) and wpe
 * (maxPositions,C) in row chunks. offset: prefix length + tokens already cached.
 */
export function embeddingForward(
  rec: Recorder,
  out: Tensor,
  ids: Tensor,
  positions: Tensor,
  wte: RowChunks,
  wpe: RowChunks | null,
  offset: number,
): void {
  if (ids.dtype !== 'i32' || positions.dtype !== 'i32') throw new Error('embeddingForward: ids and positions must be i32');
  if (numel(positions.shape) !== numel(ids.shape)) throw new Error(`embeddingForward: positions [${positions.shape}] differ from ids [${ids.shape}]`);
  // With several chunks every row is written by exactly one of them; clear first so an invalid id
  // leaves zeros rather than stale values. (One chunk: an out-of-range id leaves the row as it was.)
  if (wte.chunks.length > 1) rec.clear(out);
  for (const c of wte.chunks) lookup(rec, out, ids, c, 0, false);
  if (wpe) for (const c of wpe.chunks) lookup(rec, out, positions, c, offset, true);
}

/** out (M,C) = table[idx[0..M)]: rows of a (rows,C) tensor picked by an i32 index list. */
export function gatherRows(rec: Recorder, out: Tensor, idx: Tensor, table: Tensor): void {
  const C = numel(out.shape) / numel(idx.shape);
  lookup(rec, out, idx, { tensor: table, rowStart: 0, rows: numel(table.shape) / C }, 0, false);
}

/** Positions grouped by the table row they read, for the deterministic backward. */
export interface RowGroups {
  rows: Uint32Array; // (U) ascending
  starts: Uint32Array; // (U+1) group u is order[starts[u]..starts[u+1])
  order: Uint32Array; // (N) positions, grouped by row, ascending within a group
}

/** Groups the positions n of idx by row idx[n] + offset (CPU). */
export function groupRows(idx: ArrayLike<number>, offset = 0): RowGroups {
  const N = idx.length;
  const order = Uint32Array.from({ length: N }, (_, i) => i).sort((a, b) => idx[a] - idx[b] || a - b);
  const rows: number[] = [];
  const starts: number[] = [];
  for (let j = 0; j < N; j++) {
    if (j === 0 || idx[order[j]] !== idx[order[j - 1]]) {
      rows.push(idx[order[j]] + offset);
      starts.push(j);
    }
  }
  starts.push(N);
  return { rows: Uint32Array.from(rows), starts: Uint32Array.from(starts), order };
}

/** dtable (rows,C) += Σ dout over each group (U groups, given as tensors), for the chunk from rowStart. */
function scatter(rec: Recorder, dtable: Tensor, dout: Tensor, g: { rows: Tensor; starts: Tensor; order: Tensor }, U: number, C: number, rowStart: number): void {
  const y = Math.min(U, 65535);
  rec.dispatch({
    kernel: BACKWARD,
    overrides: { WG: WG_BACKWARD },
    outputs: [dtable],
    inputs: [dout, g.rows, g.starts, g.order],
    params: params(U, C, rowStart),
    workgroups: [Math.ceil(C / WG_BACKWARD), y, Math.ceil(U / y)],
  });
}

/**
 * out[idx[i], :] += src[i, :] for distinct indices idx (M) i32 — the backward of gatherRows. iota
 * holds 0, 1, 2, ... (at least M+1 values, u32): each row is its own group of one.
 */
export function scatterAddRows(rec: Recorder, out: Tensor, src: Tensor, idx: Tensor, iota: Tensor): void {
  const M = numel(idx.shape);
  scatter(rec, out, src, { rows: idx, starts: view(iota, [M + 1]), order: view(iota, [M]) }, M, numel(src.shape) / M, 0);
}

/**
 * table.grads += Σ dout (N,C) over the positions that read each row, `groups` from groupRows() of the
 * forward's ids (or positions, with the forward's offset). The small index buffers it uploads are
 * pushed onto `owned`: free them once the command buffer is submitted.
 */
export function embeddingBackward(rec: Recorder, table: RowChunks, dout: Tensor, groups: RowGroups, owned: Tensor[]): void {
  if (!table.grads) return;
  const N = groups.order.length;
  const C = numel(dout.shape) / N;
  const upload = (data: Uint32Array, label: string) => {
    const t = createTensor(rec.gpu, [data.length], 'u32', label);
    writeTensor(rec.gpu, t, data);
    owned.push(t);
    return t;
  };
  const order = upload(groups.order, 'embedding:order');
  table.chunks.forEach((c, i) => {
    // The groups whose row is in this chunk: a contiguous range, since groups are sorted by row.
    let u0 = 0;
    while (u0 < groups.rows.length && groups.rows[u0] < c.rowStart) u0++;
    let u1 = u0;
    while (u1 < groups.rows.length && groups.rows[u1] < c.rowStart + c.rows) u1++;
    if (u1 === u0) return;
    const rows = upload(groups.rows.slice(u0, u1), 'embedding:rows');
    const starts = upload(groups.starts.slice(u0, u1 + 1), 'embedding:starts');
    scatter(rec, table.grads![i], dout, { rows, starts, order }, u1 - u0, C, c.rowStart);
  });
}

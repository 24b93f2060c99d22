// Embedding lookups of the model: token rows of wte (plus learned positions, GPT-2's wpe) into the
// residual stream, and for full fine-tuning their backward. A table bigger than one storage binding
// is stored as row chunks (params.ts); each chunk's dispatch handles the tokens that fall in it.
//
// Local to the model (not src/lib/ops/): written while the shared embedding op was not available, and
// it needs the chunked tables the parameter store produces.
import { createTensor, grid1d, numel, params, i32, view, type Gpu, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import type { RowChunks } from '../bindings.ts';
import forwardWgsl from './forward.wgsl?raw';
import backwardWgsl from './backward.wgsl?raw';

const FORWARD: Kernel = { name: 'model_embed_forward', file: 'src/lib/model/embed/forward.wgsl', code: forwardWgsl };
const BACKWARD: Kernel = { name: 'model_embed_backward', file: 'src/lib/model/embed/backward.wgsl', code: backwardWgsl };
const WG = 256;
const WG_BACKWARD = 64;

/** out (N,C) = wte[ids] (+ wpe[positions + offset]). */
export function embeddingForward(
  rec: Recorder,
  out: Tensor,
  ids: Tensor,
  positions: Tensor,
  wte: RowChunks,
  wpe: RowChunks | null,
  offset: number,
): void {
  const N = numel(ids.shape);
  const C = numel(out.shape) / N;
  if (ids.dtype !== 'i32' || positions.dtype !== 'i32') throw new Error('embeddingForward: ids and positions must be i32');
  // With several chunks every row is written by exactly one of them; clear first so an invalid id
  // leaves zeros rather than stale values. (One chunk: an out-of-range id leaves the row as it was.)
  if (wte.chunks.length > 1) rec.clear(out);
  const gather = (idx: Tensor, table: RowChunks, idxOffset: number, mode: number) => {
    for (const c of table.chunks) {
      rec.dispatch({
        kernel: FORWARD,
        overrides: { WG },
        outputs: [out],
        inputs: [idx, c.tensor],
        params: params(N, C, c.rowStart, c.rows, i32(idxOffset), mode),
        workgroups: grid1d(N * C, WG),
      });
    }
  };
  gather(ids, wte, 0, 0);
  if (wpe) gather(positions, wpe, offset, 1);
}

/** out (M,C) = table[idx[0..M)] (rows of a (rows,C) tensor picked by an i32 index list). */
export function gatherRows(rec: Recorder, out: Tensor, idx: Tensor, table: Tensor): void {
  const M = numel(idx.shape);
  const C = numel(out.shape) / M;
  rec.dispatch({
    kernel: FORWARD,
    overrides: { WG },
    outputs: [out],
    inputs: [idx, table],
    params: params(M, C, 0, numel(table.shape) / C, i32(0), 0),
    workgroups: grid1d(M * C, WG),
  });
}

/**
 * out[idx[i], :] += src[i, :] for distinct, ascending indices idx (M) — the backward of gatherRows.
 * iota holds 0, 1, 2, ... (at least M+1 values, u32): each row is its own group of one.
 */
export function scatterAddRows(rec: Recorder, out: Tensor, src: Tensor, idx: Tensor, iota: Tensor): void {
  const M = numel(idx.shape);
  const C = numel(src.shape) / M;
  const y = Math.min(M, 65535);
  rec.dispatch({
    kernel: BACKWARD,
    overrides: { WG: WG_BACKWARD },
    outputs: [out],
    inputs: [src, idx, view(iota, [M + 1]), view(iota, [M])],
    params: params(M, C, 0),
    workgroups: [Math.ceil(C / WG_BACKWARD), y, Math.ceil(M / y)],
  });
}

/** Token positions grouped by the table row they read, for the deterministic backward. */
export interface RowGroups {
  rows: Uint32Array; // (U)
  starts: Uint32Array; // (U+1)
  order: Uint32Array; // (N)
}

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

/** dtable += Σ dout over the tokens that read each row (full fine-tuning only). */
export function embeddingTableBackward(rec: Recorder, table: RowChunks, dout: Tensor, groups: RowGroups, gpu: Gpu, owned: Tensor[]): void {
  if (!table.grads) return;
  const N = groups.order.length;
  const C = numel(dout.shape) / N;
  for (let i = 0; i < table.chunks.length; i++) {
    const c = table.chunks[i];
    // The groups whose row is in this chunk: a contiguous range, since groups are sorted by row.
    let u0 = 0;
    while (u0 < groups.rows.length && groups.rows[u0] < c.rowStart) u0++;
    let u1 = u0;
    while (u1 < groups.rows.length && groups.rows[u1] < c.rowStart + c.rows) u1++;
    const U = u1 - u0;
    if (U === 0) continue;
    const up = (data: Uint32Array, label: string) => {
      const t = createTensor(gpu, [data.length], 'u32', label);
      gpu.device.queue.writeBuffer(t.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
      owned.push(t);
      return t;
    };
    const rows = up(groups.rows.slice(u0, u1), 'embed.rows');
    const starts = up(groups.starts.slice(u0, u1 + 1), 'embed.starts');
    const order = up(groups.order, 'embed.order');
    const y = Math.min(U, 65535);
    rec.dispatch({
      kernel: BACKWARD,
      overrides: { WG: WG_BACKWARD },
      outputs: [table.grads[i]],
      inputs: [dout, rows, starts, order],
      params: params(U, C, c.rowStart),
      workgroups: [Math.ceil(C / WG_BACKWARD), y, Math.ceil(U / y)],
    });
  }
}

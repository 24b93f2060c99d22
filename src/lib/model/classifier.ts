// The classifier (lm_head): logits = x·Wᵀ with W (V,C), and its backward. A vocabulary too big for
// one storage binding keeps W in row chunks; each chunk computes its block of vocabulary columns.
// Projections whose weight is split the same way (linear.ts) reuse the backward.
import { numel, reshape, type Recorder, type Tensor } from '../gpu/index.ts';
import { matmulBackward, matmulForward } from '../ops/matmul/matmul.ts';
import type { RowChunks } from './bindings.ts';
import { copy2d } from './kernels/copy2d.ts';

/**
 * logits (N,V) = x (N,C)·Wᵀ, W (V,C). When W is stored in row chunks, chunk c gives the column block
 * of vocabulary entries it holds: computed into scratch, then copied into place.
 */
export function classifier(rec: Recorder, out: Tensor, x: Tensor, w: RowChunks): void {
  if (w.chunks.length === 1) {
    matmulForward(rec, out, x, w.chunks[0].tensor);
    return;
  }
  const N = numel(x.shape) / x.shape[x.shape.length - 1];
  const V = out.shape[out.shape.length - 1];
  for (const c of w.chunks) {
    const tmp = reshape(rec.gpu.scratch('classifier:block', N * c.rows), [N, c.rows]);
    matmulForward(rec, tmp, x, c.tensor);
    copy2d(rec, out, tmp, { M: N, N: c.rows, ldOut: V, ldIn: c.rows, colOut: c.rowStart, colIn: 0 });
  }
}

/**
 * dx (N,C) = dlogits·W (added to dx when `accumulate`); full fine-tuning also dW += dlogitsᵀ·x.
 * Chunked W as above.
 */
export function classifierBackward(rec: Recorder, dx: Tensor, dlogits: Tensor, x: Tensor, w: RowChunks, accumulate = false): void {
  if (w.chunks.length === 1) {
    matmulBackward(rec, { dinp: dx, dweight: w.grads?.[0] }, dlogits, x, w.chunks[0].tensor, {
      accumulate: { dinp: accumulate, dweight: true },
    });
    return;
  }
  const N = numel(x.shape) / x.shape[x.shape.length - 1];
  const V = dlogits.shape[dlogits.shape.length - 1];
  w.chunks.forEach((c, i) => {
    const tmp = reshape(rec.gpu.scratch('classifier:block', N * c.rows), [N, c.rows]);
    copy2d(rec, tmp, dlogits, { M: N, N: c.rows, ldOut: c.rows, ldIn: V, colOut: 0, colIn: c.rowStart });
    matmulBackward(rec, { dinp: dx, dweight: w.grads?.[i] }, tmp, x, c.tensor, {
      accumulate: { dinp: accumulate || i > 0, dweight: true },
    });
  });
}

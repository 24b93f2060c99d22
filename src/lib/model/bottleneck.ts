// The bottleneck adapter (Houlsby / PEFT-style) after a sublayer: y + up(act(down(y))), added
// straight into the residual sum, and its backward.
import type { Recorder, Tensor } from '../gpu/index.ts';
import { activationBackward, activationForward } from '../ops/activation/activation.ts';
import { matmulBackward, matmulForward } from '../ops/matmul/matmul.ts';
import type { BottleneckBinding } from './bindings.ts';

/**
 * sum ← sum + up(act(down(y))): the adapter's output is added straight into the residual sum that
 * already holds y (mid = x + y), so the sublayer output y needs no second buffer.
 */
export function bottleneckForward(rec: Recorder, sum: Tensor, y: Tensor, bn: BottleneckBinding, s: { h: Tensor; a: Tensor }): void {
  matmulForward(rec, s.h, y, bn.downW, { bias: bn.downB });
  activationForward(rec, s.a, s.h, bn.act);
  matmulForward(rec, sum, s.a, bn.upW, { bias: bn.upB, accumulate: true });
}

/**
 * Given dsum = ∂loss/∂(x + y + up(act(down(y)))): the adapter's gradients, and dy = dsum + the
 * path back through the adapter (dsum reaches y directly and through down).
 */
export function bottleneckBackward(
  rec: Recorder,
  dy: Tensor,
  dsum: Tensor,
  y: Tensor,
  bn: BottleneckBinding,
  s: { h: Tensor; a: Tensor },
  d: { dh: Tensor; da: Tensor },
): void {
  const gr = bn.grads;
  matmulBackward(rec, { dinp: d.da, dweight: gr?.upW, dbias: gr?.upB }, dsum, s.a, bn.upW, {
    accumulate: { dinp: false, dweight: true, dbias: true },
  });
  activationBackward(rec, d.dh, d.da, s.h, bn.act, { accumulate: false });
  rec.copy(dsum, dy);
  matmulBackward(rec, { dinp: dy, dweight: gr?.downW, dbias: gr?.downB }, d.dh, y, bn.downW, { accumulate: true });
}

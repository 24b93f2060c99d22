// A projection of the model, out = x·Wᵀ + b, with what the attached method adds to it: a LoRA branch
// (with PEFT's lora_dropout on its input while training), and full fine-tuning's weight gradients.
// A weight larger than one storage binding is stored in row chunks (blocks of output features) and
// runs chunk by chunk, like the classifier.
import { numel, reshape, type Recorder, type Tensor } from '../gpu/index.ts';
import { dropoutBackward, dropoutForward } from '../ops/dropout/dropout.ts';
import { matmulBackward, matmulForward } from '../ops/matmul/matmul.ts';
import type { LinearBinding, RowChunks } from './bindings.ts';
import { classifierBackward } from './classifier.ts';
import { copy2d } from './kernels/copy2d.ts';

/**
 * out = x·Wᵀ + b, plus scaling·(dropout(x)·Aᵀ)·Bᵀ when the projection has a LoRA branch, whose
 * activation u = dropout(x)·Aᵀ (B·T, r) is kept for the backward. Dropout applies only when training
 * (`seed` given) with lora_dropout > 0.
 */
export function linearForward(rec: Recorder, out: Tensor, x: Tensor, lin: LinearBinding, u: Tensor | null, seed: number | undefined): void {
  if (lin.split) splitLinearForward(rec, out, x, lin.split, lin.bias);
  else matmulForward(rec, out, x, lin.weight, { bias: lin.bias ?? undefined });
  if (lin.lora) {
    matmulForward(rec, u!, loraInput(rec, x, lin, seed), lin.lora.A);
    matmulForward(rec, out, u!, lin.lora.B, { alpha: lin.lora.scale, accumulate: true });
  }
}

/**
 * Backward of out = x·Wᵀ + b + s·(xd·Aᵀ)·Bᵀ given dout, with xd = dropout(x) (or x):
 *   dx (+)= dout·W;  full fine-tuning: dW += doutᵀ·x, db += Σ dout
 *   LoRA:  dB += s·doutᵀ·u,  du = s·dout·B,  dA += duᵀ·xd,  dx += dropout'(du·A)
 * dx is overwritten unless `accumulate` (q, k and v add into one dn); null skips it (layer 0). `lora`
 * holds the branch's forward activation u and scratch du of the same shape.
 */
export function linearBackward(
  rec: Recorder,
  dx: Tensor | null,
  dout: Tensor,
  x: Tensor,
  lin: LinearBinding,
  lora: { u: Tensor; du: Tensor } | null,
  accumulate: boolean,
  seed: number | undefined,
): void {
  if (lin.split) {
    if (dx) classifierBackward(rec, dx, dout, x, lin.split, accumulate);
    else if (lin.split.grads) throw new Error('linearBackward: a split weight needs its input gradient path');
    if (lin.dbias) matmulBackward(rec, { dbias: lin.dbias }, dout, x, fullShape(lin), { accumulate: true });
  } else {
    matmulBackward(
      rec,
      { dinp: dx ?? undefined, dweight: lin.dweight ?? undefined, dbias: lin.dbias ?? undefined },
      dout,
      x,
      lin.weight,
      { accumulate: { dinp: accumulate, dweight: true, dbias: true } },
    );
  }
  const branch = lin.lora;
  if (!branch) return;
  const { u, du } = lora!;
  matmulBackward(rec, { dinp: du, dweight: branch.dB ?? undefined }, dout, u, branch.B, {
    alpha: branch.scale,
    accumulate: { dinp: false, dweight: true },
  });
  if (!(branch.dropout > 0) || seed === undefined) {
    matmulBackward(rec, { dinp: dx ?? undefined, dweight: branch.dA ?? undefined }, du, x, branch.A, { accumulate: true });
    return;
  }
  const xd = loraInput(rec, x, lin, seed);
  if (branch.dA) matmulBackward(rec, { dweight: branch.dA }, du, xd, branch.A, { accumulate: true });
  if (!dx) return;
  const dxd = reshape(rec.gpu.scratch('lora:dropout-grad', numel(x.shape)), x.shape);
  matmulBackward(rec, { dinp: dxd }, du, xd, branch.A, { accumulate: false });
  dropoutBackward(rec, dx, dxd, branch.dropout, dropoutSeed(seed, branch.id));
}

/** The LoRA branch's input: x itself, or dropout(x) recomputed from the seed into scratch. */
function loraInput(rec: Recorder, x: Tensor, lin: LinearBinding, seed: number | undefined): Tensor {
  const p = lin.lora!.dropout;
  if (!(p > 0) || seed === undefined) return x;
  const xd = reshape(rec.gpu.scratch('lora:dropout', numel(x.shape)), x.shape);
  dropoutForward(rec, xd, x, p, dropoutSeed(seed, lin.lora!.id));
  return xd;
}

/** One seed per (micro-batch, LoRA projection). */
function dropoutSeed(seed: number, id: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(id + 1, 0x85ebca6b)) >>> 0;
}

/**
 * out (N,OUT) = x·Wᵀ + bias for a projection whose weight is stored in row chunks: each chunk's
 * block of output columns goes through scratch (bias slices too: a chunk's rows need not start at
 * an aligned offset).
 */
function splitLinearForward(rec: Recorder, out: Tensor, x: Tensor, w: RowChunks, bias: Tensor | null): void {
  const N = numel(x.shape) / x.shape[x.shape.length - 1];
  const OUT = numel(out.shape) / N;
  for (const c of w.chunks) {
    const tmp = reshape(rec.gpu.scratch('linear:block', N * c.rows), [N, c.rows]);
    let b: Tensor | undefined;
    if (bias) {
      b = reshape(rec.gpu.scratch('linear:bias', c.rows), [c.rows]);
      rec.copy({ ...bias, shape: [c.rows], offset: bias.offset + c.rowStart * 4 }, b);
    }
    matmulForward(rec, tmp, reshape(x, [N, x.shape[x.shape.length - 1]]), c.tensor, { bias: b });
    copy2d(rec, out, tmp, { M: N, N: c.rows, ldOut: OUT, ldIn: c.rows, colOut: c.rowStart, colIn: 0 });
  }
}

/** A (out,in)-shaped stand-in for a split weight, for the bias gradient (which reads only shapes). */
function fullShape(lin: LinearBinding): Tensor {
  return { ...lin.weight, shape: [lin.def.out, lin.def.in] };
}

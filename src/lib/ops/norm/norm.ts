// LayerNorm (GPT-2) and RMSNorm (Llama, Qwen2) over the last axis, one op: RMSNorm is LayerNorm
// without the mean and the bias, and the kernels take the variant as the LAYERNORM override (one
// cached pipeline per variant). Forward saves rstd (and LayerNorm's mean) per row like llm.c;
// backward gives dinp and, if asked, dweight (and dbias): deterministic per-channel sums over rows.
import { f32, grid1d, numel, params, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import type { NormKind } from './reference.ts';
import forwardWgsl from './forward.wgsl?raw';
import backwardWgsl from './backward.wgsl?raw';
import backwardDweightWgsl from './backward_dweight.wgsl?raw';

export type { NormKind } from './reference.ts';

const WG = 32; // invocations per row: one warp, as llm.c's layernorm kernels (128 spent 5× longer in barriers on SwiftShader); a power of two
const WG_DWEIGHT = 64; // channels per workgroup in the dweight/dbias pass
const FORWARD: Kernel = { name: 'norm_forward', file: 'src/lib/ops/norm/forward.wgsl', code: forwardWgsl };
const BACKWARD: Kernel = { name: 'norm_backward', file: 'src/lib/ops/norm/backward.wgsl', code: backwardWgsl };
const BACKWARD_DWEIGHT: Kernel = { name: 'norm_backward_dweight', file: 'src/lib/ops/norm/backward_dweight.wgsl', code: backwardDweightWgsl };

/** Rows N = B*T and channels C of x (...,C), checking the other tensors against them. */
function shape(op: string, x: Tensor, channels: Tensor[], rows: Tensor[], full: Tensor[]): { N: number; C: number } {
  const C = x.shape[x.shape.length - 1];
  const N = numel(x.shape) / C;
  for (const t of channels) if (numel(t.shape) !== C) throw new Error(`${op}: [${t.shape}] should hold C=${C} values`);
  for (const t of rows) if (numel(t.shape) !== N) throw new Error(`${op}: [${t.shape}] should hold one value per row (${N})`);
  for (const t of full) if (numel(t.shape) !== N * C) throw new Error(`${op}: [${t.shape}] should match [${x.shape}]`);
  return { N, C };
}

/**
 * LayerNorm's mean and bias tensors, which it requires; RMSNorm binds unused placeholders in their
 * place (the kernels never touch them, but every variant binds the same slots).
 */
function layernormOnly(op: string, kind: NormKind, rec: Recorder, name: string, t: Tensor | null): Tensor {
  if (kind === 'layernorm') {
    if (!t) throw new Error(`${op}: LayerNorm needs ${name}`);
    return t;
  }
  if (t) throw new Error(`${op}: RMSNorm has no ${name}`);
  return rec.gpu.scratch(`norm:unused-${name}`, 1);
}

/**
 * out (B,T,C) = norm(inp (B,T,C))·weight (C) (+ bias (C), LayerNorm); rstd (B,T) and LayerNorm's
 * mean (B,T) are saved for normBackward (RMSNorm: mean and bias null). `eps` is the config's
 * layer_norm_epsilon / rms_norm_eps.
 */
export function normForward(
  rec: Recorder,
  out: Tensor,
  mean: Tensor | null,
  rstd: Tensor,
  inp: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  norm: { kind: NormKind; eps: number },
): void {
  const op = 'normForward';
  const m = layernormOnly(op, norm.kind, rec, 'mean', mean);
  const b = layernormOnly(op, norm.kind, rec, 'bias', bias);
  const { N, C } = shape(op, inp, norm.kind === 'layernorm' ? [weight, b] : [weight], norm.kind === 'layernorm' ? [m, rstd] : [rstd], [out]);
  rec.dispatch({
    kernel: FORWARD,
    overrides: { WG, LAYERNORM: norm.kind === 'layernorm' ? 1 : 0 },
    outputs: [out, m, rstd],
    inputs: [inp, weight, b],
    params: params(N, C, f32(norm.eps)),
    workgroups: grid1d(N, 1),
  });
}

/**
 * dinp (B,T,C) += gradient through the norm; dweight (and LayerNorm's dbias) (C) += their sums over
 * rows unless null (frozen base weights need none; LayerNorm: pass both or neither). mean is
 * LayerNorm's, null for RMSNorm. `accumulate: false` overwrites dinp instead (the model's first
 * write of the residual gradient); dweight and dbias always accumulate, as every parameter gradient
 * does across the micro-batches of one optimizer step.
 */
export function normBackward(
  rec: Recorder,
  dinp: Tensor,
  dweight: Tensor | null,
  dbias: Tensor | null,
  dout: Tensor,
  inp: Tensor,
  weight: Tensor,
  mean: Tensor | null,
  rstd: Tensor,
  kind: NormKind,
  opts: { accumulate?: boolean } = {},
): void {
  const op = 'normBackward';
  const m = layernormOnly(op, kind, rec, 'mean', mean);
  const { N, C } = shape(op, inp, [weight], kind === 'layernorm' ? [m, rstd] : [rstd], [dinp, dout]);
  const overrides = { LAYERNORM: kind === 'layernorm' ? 1 : 0, ACCUMULATE: opts.accumulate === false ? 0 : 1 };
  rec.dispatch({
    kernel: BACKWARD,
    overrides: { WG, ...overrides },
    outputs: [dinp],
    inputs: [dout, inp, weight, m, rstd],
    params: params(N, C),
    workgroups: grid1d(N, 1),
  });
  if (!dweight && !dbias) return;
  if (!dweight) throw new Error(`${op}: dbias without dweight`);
  if (kind === 'layernorm' && !dbias) throw new Error(`${op}: LayerNorm needs both dweight and dbias, or neither`);
  const db = layernormOnly(op, kind, rec, 'dbias', dbias);
  shape(op, inp, kind === 'layernorm' ? [dweight, db] : [dweight], [], []);
  rec.dispatch({
    kernel: BACKWARD_DWEIGHT,
    overrides: { WG: WG_DWEIGHT, ...overrides, ACCUMULATE: 1 },
    outputs: [dweight, db],
    inputs: [dout, inp, m, rstd],
    params: params(N, C),
    workgroups: [Math.ceil(C / WG_DWEIGHT)],
  });
}

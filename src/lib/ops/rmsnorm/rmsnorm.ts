// RMSNorm (Llama, Qwen2): out = inp * rstd * weight over the last axis, rstd = 1/sqrt(mean(inp²)+eps).
// Forward saves rstd (B,T); backward gives dinp and, if asked, dweight (a deterministic per-channel
// sum over the B*T rows: no atomics).
import { grid1d, numel, params, f32, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import forwardWgsl from './forward.wgsl?raw';
import backwardWgsl from './backward.wgsl?raw';
import backwardDweightWgsl from './backward_dweight.wgsl?raw';

const WG = 128; // invocations per row; a power of two
const WG_DWEIGHT = 64; // channels per workgroup in the dweight pass
const FORWARD: Kernel = { name: 'rmsnorm_forward', file: 'src/lib/ops/rmsnorm/forward.wgsl', code: forwardWgsl };
const BACKWARD: Kernel = { name: 'rmsnorm_backward', file: 'src/lib/ops/rmsnorm/backward.wgsl', code: backwardWgsl };
const BACKWARD_DWEIGHT: Kernel = {
  name: 'rmsnorm_backward_dweight',
  file: 'src/lib/ops/rmsnorm/backward_dweight.wgsl',
  code: backwardDweightWgsl,
};

/** Rows N = B*T and channels C of x (...,C), checking the other tensors against them. */
function shape(op: string, x: Tensor, weight: Tensor, rows: Tensor[], full: Tensor[]): { N: number; C: number } {
  const C = numel(weight.shape);
  if (x.shape[x.shape.length - 1] !== C) throw new Error(`${op}: input [${x.shape}] does not end in C=${C}`);
  const N = numel(x.shape) / C;
  for (const t of rows) if (numel(t.shape) !== N) throw new Error(`${op}: [${t.shape}] should hold one value per row (${N})`);
  for (const t of full) if (numel(t.shape) !== N * C) throw new Error(`${op}: [${t.shape}] should match [${x.shape}]`);
  return { N, C };
}

/**
 * out (B,T,C) = inp (B,T,C) normalised by its root mean square, times weight (C); rstd (B,T) is
 * saved for rmsnormBackward. `eps` is config.rms_norm_eps.
 */
export function rmsnormForward(
  rec: Recorder,
  out: Tensor,
  rstd: Tensor,
  inp: Tensor,
  weight: Tensor,
  eps: number,
): void {
  const { N, C } = shape('rmsnormForward', inp, weight, [rstd], [out]);
  rec.dispatch({
    kernel: FORWARD,
    overrides: { WG },
    outputs: [out, rstd],
    inputs: [inp, weight],
    params: params(N, C, f32(eps)),
    workgroups: grid1d(N, 1),
  });
}

/**
 * dinp (B,T,C) += gradient through the norm; dweight (C) += Σ_rows dout·inp·rstd unless it is null
 * (a frozen base weight needs none). `accumulate: false` overwrites both instead.
 */
export function rmsnormBackward(
  rec: Recorder,
  dinp: Tensor,
  dweight: Tensor | null,
  dout: Tensor,
  inp: Tensor,
  weight: Tensor,
  rstd: Tensor,
  opts: { accumulate?: boolean } = {},
): void {
  const { N, C } = shape('rmsnormBackward', inp, weight, [rstd], [dinp, dout]);
  const ACCUMULATE = opts.accumulate === false ? 0 : 1;
  rec.dispatch({
    kernel: BACKWARD,
    overrides: { WG, ACCUMULATE },
    outputs: [dinp],
    inputs: [dout, inp, weight, rstd],
    params: params(N, C),
    workgroups: grid1d(N, 1),
  });
  if (!dweight) return;
  if (numel(dweight.shape) !== C) throw new Error(`rmsnormBackward: dweight [${dweight.shape}] should hold C=${C}`);
  rec.dispatch({
    kernel: BACKWARD_DWEIGHT,
    overrides: { WG: WG_DWEIGHT, ACCUMULATE },
    outputs: [dweight],
    inputs: [dout, inp, rstd],
    params: params(N, C),
    workgroups: [Math.ceil(C / WG_DWEIGHT)],
  });
}

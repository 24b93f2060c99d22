// LayerNorm (GPT-2): out = (inp - mean)·rstd·weight + bias over the last axis. Forward saves mean and
// rstd (B,T) like llm.c; backward gives dinp and, if asked, dweight and dbias (deterministic
// per-channel sums over the B*T rows).
import { grid1d, numel, params, f32, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import forwardWgsl from './forward.wgsl?raw';
import backwardWgsl from './backward.wgsl?raw';
import backwardDweightWgsl from './backward_dweight.wgsl?raw';

const WG = 128; // invocations per row; a power of two
const WG_DWEIGHT = 64; // channels per workgroup in the dweight/dbias pass
const FORWARD: Kernel = { name: 'layernorm_forward', file: 'src/lib/ops/layernorm/forward.wgsl', code: forwardWgsl };
const BACKWARD: Kernel = { name: 'layernorm_backward', file: 'src/lib/ops/layernorm/backward.wgsl', code: backwardWgsl };
const BACKWARD_DWEIGHT: Kernel = {
  name: 'layernorm_backward_dweight',
  file: 'src/lib/ops/layernorm/backward_dweight.wgsl',
  code: backwardDweightWgsl,
};

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
 * out (B,T,C) = layernorm(inp (B,T,C))·weight (C) + bias (C); mean and rstd (B,T) are saved for
 * layernormBackward. `eps` is config.layer_norm_epsilon (1e-5 for GPT-2).
 */
export function layernormForward(
  rec: Recorder,
  out: Tensor,
  mean: Tensor,
  rstd: Tensor,
  inp: Tensor,
  weight: Tensor,
  bias: Tensor,
  eps: number,
): void {
  const { N, C } = shape('layernormForward', inp, [weight, bias], [mean, rstd], [out]);
  rec.dispatch({
    kernel: FORWARD,
    overrides: { WG },
    outputs: [out, mean, rstd],
    inputs: [inp, weight, bias],
    params: params(N, C, f32(eps)),
    workgroups: grid1d(N, 1),
  });
}

/**
 * dinp (B,T,C) += gradient through the norm; dweight, dbias (C) += their sums over rows unless null
 * (frozen base weights need none; pass both or neither). `accumulate: false` overwrites instead.
 */
export function layernormBackward(
  rec: Recorder,
  dinp: Tensor,
  dweight: Tensor | null,
  dbias: Tensor | null,
  dout: Tensor,
  inp: Tensor,
  weight: Tensor,
  mean: Tensor,
  rstd: Tensor,
  opts: { accumulate?: boolean } = {},
): void {
  const { N, C } = shape('layernormBackward', inp, [weight], [mean, rstd], [dinp, dout]);
  const ACCUMULATE = opts.accumulate === false ? 0 : 1;
  rec.dispatch({
    kernel: BACKWARD,
    overrides: { WG, ACCUMULATE },
    outputs: [dinp],
    inputs: [dout, inp, weight, mean, rstd],
    params: params(N, C),
    workgroups: grid1d(N, 1),
  });
  if (!dweight && !dbias) return;
  if (!dweight || !dbias) throw new Error('layernormBackward: pass both dweight and dbias, or neither');
  shape('layernormBackward', inp, [dweight, dbias], [], []);
  rec.dispatch({
    kernel: BACKWARD_DWEIGHT,
    overrides: { WG: WG_DWEIGHT, ACCUMULATE },
    outputs: [dweight, dbias],
    inputs: [dout, inp, mean, rstd],
    params: params(N, C),
    workgroups: [Math.ceil(C / WG_DWEIGHT)],
  });
}

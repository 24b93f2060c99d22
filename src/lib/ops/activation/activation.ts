// Elementwise activations: relu, silu, gelu_tanh (GPT-2's gelu_new), gelu_erf (exact GELU). One
// kernel serves all four kinds (a uniform) and both passes (the BACKWARD override: f and f' share
// their helpers, erf and a stable tanh).
import { grid1d, params, sameNumel, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import type { ActivationKind } from './reference.ts';
import activationWgsl from './activation.wgsl?raw';

export type { ActivationKind } from './reference.ts';

/** The `kind` values of the WGSL Params struct. */
const ACTIVATION_KINDS: Record<ActivationKind, number> = { relu: 0, silu: 1, gelu_tanh: 2, gelu_erf: 3 };

const WG = 256;
const ACTIVATION: Kernel = { name: 'activation', file: 'src/lib/ops/activation/activation.wgsl', code: activationWgsl };

/** out = f(inp), elementwise over any shape. */
export function activationForward(rec: Recorder, out: Tensor, inp: Tensor, kind: ActivationKind): void {
  const N = sameNumel('activationForward', out, inp);
  rec.dispatch({
    kernel: ACTIVATION,
    overrides: { WG, BACKWARD: 0 },
    outputs: [out],
    inputs: [inp, inp], // the forward reads no dout: inp fills its slot
    params: params(N, ACTIVATION_KINDS[kind]),
    workgroups: grid1d(N, WG),
  });
}

/** dinp += dout·f'(inp) (accumulate: false overwrites). */
export function activationBackward(
  rec: Recorder,
  dinp: Tensor,
  dout: Tensor,
  inp: Tensor,
  kind: ActivationKind,
  opts: { accumulate?: boolean } = {},
): void {
  const N = sameNumel('activationBackward', dinp, dout, inp);
  rec.dispatch({
    kernel: ACTIVATION,
    overrides: { WG, BACKWARD: 1, ACCUMULATE: opts.accumulate === false ? 0 : 1 },
    outputs: [dinp],
    inputs: [dout, inp],
    params: params(N, ACTIVATION_KINDS[kind]),
    workgroups: grid1d(N, WG),
  });
}

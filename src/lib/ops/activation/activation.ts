// Elementwise activations: relu, silu, gelu_tanh (GPT-2's gelu_new), gelu_erf (exact GELU). One
// pipeline per pass serves all four: the kind is a uniform.
import { grid1d, params, sameNumel, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import type { ActivationKind } from './reference.ts';
import forwardWgsl from './forward.wgsl?raw';
import backwardWgsl from './backward.wgsl?raw';

export type { ActivationKind } from './reference.ts';

/** The `kind` values of the WGSL Params struct. */
const ACTIVATION_KINDS: Record<ActivationKind, number> = { relu: 0, silu: 1, gelu_tanh: 2, gelu_erf: 3 };

const WG = 256;
const FORWARD: Kernel = { name: 'activation_forward', file: 'src/lib/ops/activation/forward.wgsl', code: forwardWgsl };
const BACKWARD: Kernel = { name: 'activation_backward', file: 'src/lib/ops/activation/backward.wgsl', code: backwardWgsl };

/** out = f(inp), elementwise over any shape. */
export function activationForward(rec: Recorder, out: Tensor, inp: Tensor, kind: ActivationKind): void {
  const N = sameNumel('activationForward', out, inp);
  rec.dispatch({
    kernel: FORWARD,
    overrides: { WG },
    outputs: [out],
    inputs: [inp],
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
    kernel: BACKWARD,
    overrides: { WG, ACCUMULATE: opts.accumulate === false ? 0 : 1 },
    outputs: [dinp],
    inputs: [dout, inp],
    params: params(N, ACTIVATION_KINDS[kind]),
    workgroups: grid1d(N, WG),
  });
}

// Elementwise activations: relu, silu, gelu_tanh (GPT-2's gelu_new), gelu_erf (exact GELU). One
// pipeline per pass serves all four: the kind is a uniform. Adapters (PEFT bottleneck) pick theirs
// by Hugging Face name through activationKind().
import { grid1d, numel, params, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import type { ActivationKind } from './reference.ts';
import forwardWgsl from './forward.wgsl?raw';
import backwardWgsl from './backward.wgsl?raw';

export type { ActivationKind } from './reference.ts';

/** The `kind` values of the WGSL Params struct. */
export const ACTIVATION_KINDS: Record<ActivationKind, number> = { relu: 0, silu: 1, gelu_tanh: 2, gelu_erf: 3 };

/** Hugging Face / PEFT activation names (config.hidden_act, activation_function, non_linearity). */
export function activationKind(name: string): ActivationKind {
  switch (name.toLowerCase()) {
    case 'relu':
      return 'relu';
    case 'silu':
    case 'swish':
      return 'silu';
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return 'gelu_tanh';
    case 'gelu':
      return 'gelu_erf';
    default:
      throw new Error(`activation: unsupported activation "${name}" (relu, silu, gelu, gelu_new)`);
  }
}

const WG = 256;
const FORWARD: Kernel = { name: 'activation_forward', file: 'src/lib/ops/activation/forward.wgsl', code: forwardWgsl };
const BACKWARD: Kernel = { name: 'activation_backward', file: 'src/lib/ops/activation/backward.wgsl', code: backwardWgsl };

function sameSize(op: string, ...ts: Tensor[]): number {
  const n = numel(ts[0].shape);
  for (const t of ts) if (numel(t.shape) !== n) throw new Error(`${op}: [${t.shape}] differs in size from [${ts[0].shape}]`);
  return n;
}

/** out = f(inp), elementwise over any shape. */
export function activationForward(rec: Recorder, out: Tensor, inp: Tensor, kind: ActivationKind): void {
  const N = sameSize('activationForward', out, inp);
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
  const N = sameSize('activationBackward', dinp, dout, inp);
  rec.dispatch({
    kernel: BACKWARD,
    overrides: { WG, ACCUMULATE: opts.accumulate === false ? 0 : 1 },
    outputs: [dinp],
    inputs: [dout, inp],
    params: params(N, ACTIVATION_KINDS[kind]),
    workgroups: grid1d(N, WG),
  });
}

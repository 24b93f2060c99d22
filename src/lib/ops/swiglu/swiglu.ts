// SwiGLU (Llama/Qwen2 MLP): out = silu(gate)·up, where gate and up are the gate_proj and up_proj
// outputs (B,T,I); backward gives dgate and dup.
import { grid1d, params, sameNumel, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import forwardWgsl from './forward.wgsl?raw';
import backwardWgsl from './backward.wgsl?raw';

const WG = 256;
const FORWARD: Kernel = { name: 'swiglu_forward', file: 'src/lib/ops/swiglu/forward.wgsl', code: forwardWgsl };
const BACKWARD: Kernel = { name: 'swiglu_backward', file: 'src/lib/ops/swiglu/backward.wgsl', code: backwardWgsl };

/** out (B,T,I) = silu(gate (B,T,I))·up (B,T,I). */
export function swigluForward(rec: Recorder, out: Tensor, gate: Tensor, up: Tensor): void {
  const N = sameNumel('swigluForward', out, gate, up);
  rec.dispatch({
    kernel: FORWARD,
    overrides: { WG },
    outputs: [out],
    inputs: [gate, up],
    params: params(N),
    workgroups: grid1d(N, WG),
  });
}

/** dgate, dup (B,T,I) += their gradients (accumulate: false overwrites). dgate and dup must not overlap. */
export function swigluBackward(
  rec: Recorder,
  dgate: Tensor,
  dup: Tensor,
  dout: Tensor,
  gate: Tensor,
  up: Tensor,
  opts: { accumulate?: boolean } = {},
): void {
  const N = sameNumel('swigluBackward', dgate, dup, dout, gate, up);
  rec.dispatch({
    kernel: BACKWARD,
    overrides: { WG, ACCUMULATE: opts.accumulate === false ? 0 : 1 },
    outputs: [dgate, dup],
    inputs: [dout, gate, up],
    params: params(N),
    workgroups: grid1d(N, WG),
  });
}

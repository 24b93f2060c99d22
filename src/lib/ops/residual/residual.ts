// Residual add: out = inp1 + inp2 (B,T,C), and its backward dinp1 += dout, dinp2 += dout.
import { grid1d, numel, params, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import forwardWgsl from './forward.wgsl?raw';
import backwardWgsl from './backward.wgsl?raw';

const WG = 256;
const FORWARD: Kernel = { name: 'residual_forward', file: 'src/lib/ops/residual/forward.wgsl', code: forwardWgsl };
const BACKWARD: Kernel = { name: 'residual_backward', file: 'src/lib/ops/residual/backward.wgsl', code: backwardWgsl };

function sameSize(op: string, ...ts: Tensor[]): number {
  const n = numel(ts[0].shape);
  for (const t of ts) if (numel(t.shape) !== n) throw new Error(`${op}: [${t.shape}] differs in size from [${ts[0].shape}]`);
  return n;
}

/** out = inp1 + inp2, all (B,T,C). `out` may not share a buffer with the inputs. */
export function residualForward(rec: Recorder, out: Tensor, inp1: Tensor, inp2: Tensor): void {
  const N = sameSize('residualForward', out, inp1, inp2);
  rec.dispatch({
    kernel: FORWARD,
    overrides: { WG },
    outputs: [out],
    inputs: [inp1, inp2],
    params: params(N),
    workgroups: grid1d(N, WG),
  });
}

/**
 * dinp1 += dout and dinp2 += dout (accumulate, the default: llm.c zeroes gradients once per step
 * and every path adds into them), or dinp1 = dinp2 = dout. dinp1 and dinp2 must not overlap.
 */
export function residualBackward(
  rec: Recorder,
  dinp1: Tensor,
  dinp2: Tensor,
  dout: Tensor,
  opts: { accumulate?: boolean } = {},
): void {
  const N = sameSize('residualBackward', dinp1, dinp2, dout);
  rec.dispatch({
    kernel: BACKWARD,
    overrides: { WG, ACCUMULATE: opts.accumulate === false ? 0 : 1 },
    outputs: [dinp1, dinp2],
    inputs: [dout],
    params: params(N),
    workgroups: grid1d(N, WG),
  });
}

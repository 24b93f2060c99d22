// Residual add: out = inp1 + inp2 (B,T,C). Its backward sends dout unchanged to both inputs, which
// needs no kernel: the model lets both paths accumulate into one gradient (transformer.ts).
import { grid1d, params, sameNumel, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import forwardWgsl from './forward.wgsl?raw';

const WG = 256;
const FORWARD: Kernel = { name: 'residual_forward', file: 'src/lib/ops/residual/forward.wgsl', code: forwardWgsl };

/** out = inp1 + inp2, all (B,T,C). `out` may not share a buffer with the inputs. */
export function residualForward(rec: Recorder, out: Tensor, inp1: Tensor, inp2: Tensor): void {
  const N = sameNumel('residualForward', out, inp1, inp2);
  rec.dispatch({
    kernel: FORWARD,
    overrides: { WG },
    outputs: [out],
    inputs: [inp1, inp2],
    params: params(N),
    workgroups: grid1d(N, WG),
  });
}

// Dropout for LoRA branches (PEFT applies nn.Dropout(lora_dropout) to the input of lora_A, training
// only). The keep mask is a hash of (seed, element index), so the backward needs no stored mask: it
// is the forward's kernel run on dout, accumulating into dinp (see dropout.wgsl).
import { f32, grid1d, params, sameNumel, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import dropoutWgsl from './dropout.wgsl?raw';

const DROPOUT: Kernel = { name: 'dropout', file: 'src/lib/ops/dropout/dropout.wgsl', code: dropoutWgsl };
const WG = 256;

function dispatch(rec: Recorder, op: string, out: Tensor, inp: Tensor, p: number, seed: number, accumulate: boolean): void {
  const N = sameNumel(op, out, inp);
  rec.dispatch({
    kernel: DROPOUT,
    overrides: { WG, ACCUMULATE: accumulate ? 1 : 0 },
    outputs: [out],
    inputs: [inp],
    params: params(N, seed >>> 0, f32(p)),
    workgroups: grid1d(N, WG),
  });
}

/** out = inp · keep / (1 - p), the mask drawn from `seed`. */
export function dropoutForward(rec: Recorder, out: Tensor, inp: Tensor, p: number, seed: number): void {
  dispatch(rec, 'dropoutForward', out, inp, p, seed, false);
}

/** dinp += dout · keep / (1 - p), with the forward's seed. */
export function dropoutBackward(rec: Recorder, dinp: Tensor, dout: Tensor, p: number, seed: number): void {
  dispatch(rec, 'dropoutBackward', dinp, dout, p, seed, true);
}

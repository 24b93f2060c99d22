// The reward model's head (transformers' sequence-classification "score", one label, no bias): each
// row's reward is its last token's final hidden state times score.weight, and the backward that hands
// the reward's gradient to that hidden state and to the weight. Two dispatches:
//   scoreForward(rec, out, counts, inp, weight, last)               out (R), counts (R)
//   scoreBackward(rec, dinp, dweight, dout, inp, weight, last)      dinp (N,C) and dweight (C), added to
import { grid1d, numel, params, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import forwardWgsl from './forward.wgsl?raw';
import backwardWgsl from './backward.wgsl?raw';

const FORWARD: Kernel = { name: 'score_forward', file: 'src/lib/ops/score/forward.wgsl', code: forwardWgsl };
const BACKWARD: Kernel = { name: 'score_backward', file: 'src/lib/ops/score/backward.wgsl', code: backwardWgsl };

function shapes(op: string, inp: Tensor, weight: Tensor, last: Tensor): { R: number; C: number } {
  const C = numel(weight.shape);
  if (numel(inp.shape) % C !== 0) throw new Error(`${op}: inp [${inp.shape}] is not a whole number of rows of ${C}`);
  if (last.dtype !== 'i32') throw new Error(`${op}: last must be i32 (got ${last.dtype})`);
  return { R: numel(last.shape), C };
}

/** out (R) = inp[last[r]] · weight, counts (R) = 1 where last[r] ≥ 0 (else 0, and out 0). */
export function scoreForward(rec: Recorder, out: Tensor, counts: Tensor, inp: Tensor, weight: Tensor, last: Tensor): void {
  const { R, C } = shapes('scoreForward', inp, weight, last);
  if (numel(out.shape) !== R || numel(counts.shape) !== R) throw new Error(`scoreForward: out [${out.shape}] and counts [${counts.shape}] should hold ${R} rows`);
  rec.dispatch({
    kernel: FORWARD,
    overrides: { WG: 64 },
    outputs: [out, counts],
    inputs: [inp, weight, last],
    params: params(R, C),
    workgroups: grid1d(R, 1),
  });
}

/** dinp[last[r]] += dout[r]·weight, dweight += Σ_r dout[r]·inp[last[r]] (both accumulate). */
export function scoreBackward(rec: Recorder, dinp: Tensor, dweight: Tensor, dout: Tensor, inp: Tensor, weight: Tensor, last: Tensor): void {
  const { R, C } = shapes('scoreBackward', inp, weight, last);
  if (numel(dinp.shape) !== numel(inp.shape)) throw new Error(`scoreBackward: dinp [${dinp.shape}] should match inp [${inp.shape}]`);
  if (numel(dweight.shape) !== C || numel(dout.shape) !== R) throw new Error(`scoreBackward: dweight [${dweight.shape}] should hold ${C}, dout [${dout.shape}] ${R}`);
  rec.dispatch({
    kernel: BACKWARD,
    overrides: { WG: 256 },
    outputs: [dinp, dweight],
    inputs: [dout, inp, weight, last],
    params: params(R, C),
    workgroups: grid1d(C, 256),
  });
}

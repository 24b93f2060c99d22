// Dropout for LoRA branches (PEFT applies nn.Dropout(lora_dropout) to the input of lora_A, training
// only). The keep mask is a hash of (seed, element index), so the backward needs no stored mask.
import { grid1d, numel, params, f32, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import forwardWgsl from './forward.wgsl?raw';
import backwardWgsl from './backward.wgsl?raw';

const FORWARD: Kernel = { name: 'lora_dropout_forward', file: 'src/lib/adapters/dropout/forward.wgsl', code: forwardWgsl };
const BACKWARD: Kernel = { name: 'lora_dropout_backward', file: 'src/lib/adapters/dropout/backward.wgsl', code: backwardWgsl };
const WG = 256;

function pcg(x: number): number {
  const state = (Math.imul(x >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** The keep mask the kernels use (1 = kept), for tests: element i of a tensor with this seed. */
export function dropoutMask(n: number, seed: number, p: number): Uint8Array {
  const s = pcg(seed);
  return Uint8Array.from({ length: n }, (_, i) => ((pcg((i ^ s) >>> 0) >>> 8) / 16777216 >= p ? 1 : 0));
}

/** out = inp · keep / (1 - p). */
export function dropoutForward(rec: Recorder, out: Tensor, inp: Tensor, p: number, seed: number): void {
  const N = numel(inp.shape);
  if (numel(out.shape) !== N) throw new Error(`dropoutForward: out [${out.shape}] differs from inp [${inp.shape}]`);
  rec.dispatch({ kernel: FORWARD, overrides: { WG }, outputs: [out], inputs: [inp], params: params(N, seed >>> 0, f32(p)), workgroups: grid1d(N, WG) });
}

/** dinp += dout · keep / (1 - p), with the forward's seed. */
export function dropoutBackward(rec: Recorder, dinp: Tensor, dout: Tensor, p: number, seed: number): void {
  const N = numel(dout.shape);
  if (numel(dinp.shape) !== N) throw new Error(`dropoutBackward: dinp [${dinp.shape}] differs from dout [${dout.shape}]`);
  rec.dispatch({ kernel: BACKWARD, overrides: { WG }, outputs: [dinp], inputs: [dout], params: params(N, seed >>> 0, f32(p)), workgroups: grid1d(N, WG) });
}

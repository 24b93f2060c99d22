// Decoding packed f16 storage (frozen base weights) into f32 tensors, on the GPU. Full fine-tuning
// starts its trainable f32 copy from the base this way, and mergeLora its merged weights.
import { grid1d, numel, params, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import forwardWgsl from './forward.wgsl?raw';

const DECODE: Kernel = { name: 'f16_decode', file: 'src/lib/ops/f16/forward.wgsl', code: forwardWgsl };
const WG = 256;

/** out[outOffset + i] = inp[inOffset + i] for i < n: out f32, inp f16 (offsets in elements). */
export function decodeF16(rec: Recorder, out: Tensor, inp: Tensor, n: number, outOffset = 0, inOffset = 0): void {
  if (out.dtype !== 'f32' || inp.dtype !== 'f16') throw new Error(`decodeF16: out must be f32 and inp f16 (got ${out.dtype}, ${inp.dtype})`);
  if (outOffset + n > numel(out.shape) || inOffset + n > numel(inp.shape)) {
    throw new Error(`decodeF16: ${n} values at ${inOffset} → ${outOffset} overrun inp [${inp.shape}] or out [${out.shape}]`);
  }
  if (n === 0) return;
  rec.dispatch({
    kernel: DECODE,
    overrides: { WG },
    outputs: [out],
    inputs: [inp],
    params: params(n, outOffset, inOffset),
    workgroups: grid1d(n, WG),
  });
}

// CPU reference for the f16 → f32 decode (plain loops): out[outOffset + i] = half(bits[inOffset + i]).
// A storage conversion of frozen weights: no gradient flows through it, so there is no backward.
import { f16ToF32 } from '../../model/safetensors-dtypes.ts';

/** Decodes n half bit patterns from `inOffset` into a copy of `out` at `outOffset`. */
export function forward(out: Float64Array, bits: Uint16Array, n: number, outOffset = 0, inOffset = 0): { out: Float64Array } {
  if (outOffset + n > out.length || inOffset + n > bits.length) throw new Error('f16 decode: range out of bounds');
  const values = f16ToF32(bits.subarray(inOffset, inOffset + n));
  const res = Float64Array.from(out);
  for (let i = 0; i < n; i++) res[outOffset + i] = values[i];
  return { out: res };
}

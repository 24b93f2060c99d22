// The element types safetensors defines, their sizes, and the conversions of half-precision floats
// (IEEE binary16 and bfloat16) to float32.

/** Element types safetensors defines. F8 types are recognised (sizes known) but not converted. */
export type Dtype =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'I16'
  | 'U16'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'U32'
  | 'F32'
  | 'F64'
  | 'I64'
  | 'U64';

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<Dtype, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

export function isDtype(s: unknown): s is Dtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

/** A valid shape dimension or byte offset. */
export function isNonNegativeInteger(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

export function numElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** IEEE half (binary16) bit patterns → float32. Handles subnormals, infinities and NaN. */
export function f16ToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f16BitsToNumber(bits[i]);
  return out;
}

function f16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal: frac · 2^-14 · 2^-10
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bit patterns → float32: bf16 is the top half of a float32. */
export function bf16ToF32(bits: Uint16Array): Float32Array {
  const u32 = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) u32[i] = bits[i] << 16;
  return new Float32Array(u32.buffer);
}

/**
 * float32 values → IEEE half bit patterns, rounded to nearest, ties to even (what numpy's
 * astype(float16) and a GPU's f32→f16 conversion do). Values below half the smallest subnormal
 * (2^-25) become ±0; finite values of magnitude ≥ 65520 become ±Infinity, and `overflow` counts them
 * (a caller that must not lose them keeps the tensor in f32). NaN stays NaN, ±Infinity stays.
 */
export function f32ToF16(x: Float32Array): { bits: Uint16Array; overflow: number } {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const bits = new Uint16Array(x.length);
  let overflow = 0;
  for (let i = 0; i < x.length; i++) {
    const h = f32BitsToF16Bits(u[i]);
    if ((h & 0x7fff) === 0x7c00 && ((u[i] >>> 23) & 0xff) !== 0xff) overflow++;
    bits[i] = h;
  }
  return { bits, overflow };
}

function f32BitsToF16Bits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0); // Inf, or a quiet NaN
  const e = exp - 127 + 15; // the half's biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: value = m · 2^(exp-150) = (m >> (14-e)) units of 2^-24, rounded.
    if (e < -10) return sign; // below 2^-25: rounds to zero
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++; // may carry into the smallest normal (0x400)
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry may reach the exponent, or Infinity
  return sign | h;
}

/**
 * float32 values → the engine's packed f16 storage: element i in u32 word i>>1, the even element in
 * the low half (what WGSL's unpack2x16float(w).x returns). An odd count leaves the last high half 0.
 */
export function packF16(x: Float32Array): { words: Uint32Array; overflow: number } {
  const { bits, overflow } = f32ToF16(x);
  const words = new Uint32Array(Math.ceil(x.length / 2));
  for (let i = 0; i < bits.length; i++) words[i >> 1] |= bits[i] << ((i & 1) * 16);
  return { words, overflow };
}

/** The inverse of packF16: `n` values out of packed words (from element `start`). */
export function unpackF16(words: Uint32Array, n: number, start = 0): Float32Array {
  const bits = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const j = start + i;
    bits[i] = (words[j >> 1] >>> ((j & 1) * 16)) & 0xffff;
  }
  return f16ToF32(bits);
}

/** float32 values rounded to the nearest half and back (what f16 storage keeps of them). */
export function roundToF16(x: Float32Array): Float32Array {
  return f16ToF32(f32ToF16(x).bits);
}

// Tensor: a typed, shaped window onto a GPUBuffer. Every op wrapper takes and returns these.

export type DType = 'f32' | 'i32' | 'u32';

export interface Tensor {
  buffer: GPUBuffer;
  /** Byte offset into `buffer`. Bound tensors need it aligned to 256 (minStorageBufferOffsetAlignment). */
  offset: number;
  /** Row-major, outermost first, e.g. [B, T, C]. */
  shape: readonly number[];
  dtype: DType;
  label?: string;
}

export type HostArray = Float32Array | Int32Array | Uint32Array;

/** Every dtype the engine uses is 4 bytes wide. */
export const BYTES_PER_ELEMENT = 4;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function byteLength(t: Tensor): number {
  return numel(t.shape) * BYTES_PER_ELEMENT;
}

/**
 * A sub-tensor: `shape` starting `elementOffset` elements into `t`. It can be bound to a kernel only
 * if its byte offset is 256-aligned; ops that need unaligned slices take an offset in their Params.
 */
export function view(t: Tensor, shape: readonly number[], elementOffset = 0, label?: string): Tensor {
  if (elementOffset < 0 || elementOffset + numel(shape) > numel(t.shape)) {
    throw new Error(
      `view: [${shape}] at element ${elementOffset} does not fit in ${t.label ?? 'tensor'} [${t.shape}]`,
    );
  }
  return {
    buffer: t.buffer,
    offset: t.offset + elementOffset * BYTES_PER_ELEMENT,
    shape: [...shape],
    dtype: t.dtype,
    label: label ?? t.label,
  };
}

/** Same memory, new shape (same number of elements). */
export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  if (numel(shape) !== numel(t.shape)) throw new Error(`reshape: [${t.shape}] -> [${shape}] changes the size`);
  return { ...t, shape: [...shape] };
}

export function hostArray(dtype: DType, data: ArrayLike<number>): HostArray {
  switch (dtype) {
    case 'f32':
      return data instanceof Float32Array ? data : Float32Array.from(data);
    case 'i32':
      return data instanceof Int32Array ? data : Int32Array.from(data);
    case 'u32':
      return data instanceof Uint32Array ? data : Uint32Array.from(data);
  }
}

export function describe(t: Tensor): string {
  return `${t.label ?? 'tensor'} ${t.dtype}[${t.shape.join(',')}]`;
}

// Tensor: a typed, shaped window onto a GPUBuffer. Every op wrapper takes and returns these.
// createTensor() gives a tensor a GPUBuffer of its own.
//
// WebGPU rule to keep in mind: within one dispatch, a GPUBuffer bound read_write (an output) may
// not also be bound read-only (an input), even at disjoint ranges — the whole buffer is one
// "subresource". So tensors that one kernel reads while another is written (activations:
// inp -> out) live in different buffers. Recorder.dispatch() checks this and names the offending pair.
import { packF16 } from '../model/safetensors-dtypes.ts';
import type { Gpu } from './device.ts';

/**
 * 'f16' is storage only (frozen base weights, read through matmul's B operand and the embedding
 * lookup): two IEEE halves per u32 word, element i in word i>>1, the even element in the low half
 * (WGSL's unpack2x16float(w).x). Kernels decode to f32 and compute in f32.
 */
export type DType = 'f32' | 'i32' | 'u32' | 'f16';

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

/** Bytes per element: 4, or 2 for packed f16. */
export const bytesPerElement = (dtype: DType) => (dtype === 'f16' ? 2 : 4);
/** Tensor buffers are sized in multiples of this (minStorageBufferOffsetAlignment). */
const ALIGN = 256;

/** Usage of every tensor buffer (a function: GPUBufferUsage exists only once WebGPU is installed). */
export const storageUsage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The number of elements every tensor in `ts` holds; throws (naming `op`) if they differ. */
export function sameNumel(op: string, ...ts: Tensor[]): number {
  const n = numel(ts[0].shape);
  for (const t of ts) if (numel(t.shape) !== n) throw new Error(`${op}: [${t.shape}] differs in size from [${ts[0].shape}]`);
  return n;
}

/** Bytes a tensor spans: an f16 tensor rounds up to whole u32 words (an odd count ends in a half word). */
export function byteLength(t: Tensor): number {
  return dataBytes(numel(t.shape), t.dtype);
}

function dataBytes(n: number, dtype: DType): number {
  return dtype === 'f16' ? Math.ceil(n / 2) * 4 : n * 4;
}

/**
 * A sub-tensor: `shape` starting `elementOffset` elements into `t`. It can be bound to a kernel only
 * if its byte offset is 256-aligned; ops that need unaligned slices take an offset in their Params.
 */
export function view(t: Tensor, shape: readonly number[], elementOffset = 0, label?: string): Tensor {
  if (t.dtype === 'f16' && elementOffset % 2 !== 0) {
    throw new Error(`view: ${t.label ?? 'tensor'} is f16, and element ${elementOffset} starts mid-word`);
  }
  if (elementOffset < 0 || elementOffset + numel(shape) > numel(t.shape)) {
    throw new Error(
      `view: [${shape}] at element ${elementOffset} does not fit in ${t.label ?? 'tensor'} [${t.shape}]`,
    );
  }
  return {
    buffer: t.buffer,
    offset: t.offset + elementOffset * bytesPerElement(t.dtype),
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

function hostArray(dtype: DType, data: ArrayLike<number>): HostArray {
  switch (dtype) {
    case 'f32':
      return data instanceof Float32Array ? data : Float32Array.from(data);
    case 'i32':
      return data instanceof Int32Array ? data : Int32Array.from(data);
    case 'u32':
      return data instanceof Uint32Array ? data : Uint32Array.from(data);
    case 'f16':
      return packF16(data instanceof Float32Array ? data : Float32Array.from(data)).words;
  }
}

export function describe(t: Tensor): string {
  return `${t.label ?? 'tensor'} ${t.dtype}[${t.shape.join(',')}]`;
}

/** Bytes of the GPUBuffer createTensor() gives a tensor of this shape (at least 256, a multiple of 256). */
export function tensorBufferBytes(shape: readonly number[], dtype: DType = 'f32'): number {
  return Math.max(ALIGN, Math.ceil(dataBytes(numel(shape), dtype) / ALIGN) * ALIGN);
}

/** A tensor with a GPUBuffer of its own (no aliasing constraints with anything else). */
export function createTensor(gpu: Gpu, shape: readonly number[], dtype: DType = 'f32', label?: string): Tensor {
  const buffer = gpu.device.createBuffer({ label: label ?? 'tensor', size: tensorBufferBytes(shape, dtype), usage: storageUsage() });
  return { buffer, offset: 0, shape: [...shape], dtype, label };
}

/**
 * Queues a host-to-GPU copy (queue.writeBuffer), converted to the dtype (float64 values are rounded
 * to f32, and for an f16 tensor then to f16). It is ordered with queue submissions, so it lands
 * before any command buffer submitted after this call.
 */
export function writeTensor(gpu: Gpu, t: Tensor, data: ArrayLike<number>): void {
  const n = numel(t.shape);
  if (data.length !== n) throw new Error(`writeTensor: ${data.length} values for ${t.label ?? 'tensor'} [${t.shape}]`);
  writeBuffer(gpu, t.buffer, t.offset, hostArray(t.dtype, data));
}

/** queue.writeBuffer of a whole typed array at a byte offset, counted in gpu.counters.bytesWritten. */
export function writeBuffer(gpu: Gpu, buffer: GPUBuffer, offset: number, data: ArrayBufferView): void {
  gpu.device.queue.writeBuffer(buffer, offset, data.buffer, data.byteOffset, data.byteLength);
  gpu.counters.bytesWritten += data.byteLength;
}

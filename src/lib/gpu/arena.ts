// Buffer arena: large storage GPUBuffers carved into 256-byte-aligned tensors, so a model's
// parameters, gradients and optimizer state each live in a few buffers (AdamW is one dispatch).
//
// WebGPU rule to keep in mind: within one dispatch, a GPUBuffer bound read_write (an output) may
// not also be bound read-only (an input), even at disjoint ranges — the whole buffer is one
// "subresource". So tensors that one kernel reads while another tensor of the same buffer is
// written (activations: inp -> out) come from different arenas or from createTensor(), which
// gives a tensor its own buffer. Recorder.dispatch() checks this and names the offending pair.
import type { Gpu } from './device.ts';
import { BYTES_PER_ELEMENT, hostArray, numel, type DType, type Tensor } from './tensor.ts';

/** Usage of every tensor buffer (a function: GPUBufferUsage exists only once WebGPU is installed). */
export const storageUsage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
export const ALIGN = 256;

export const alignUp = (n: number, a = ALIGN) => Math.ceil(n / a) * a;

export class Arena {
  readonly chunks: GPUBuffer[] = [];
  private used = 0; // bytes used in the last chunk
  private total = 0;
  private readonly chunkBytes: number;

  constructor(
    readonly gpu: Gpu,
    readonly label = 'arena',
    /** Size of each backing buffer; a tensor larger than this gets a buffer of its own size. */
    chunkBytes = 256 * 1024 * 1024,
  ) {
    this.chunkBytes = Math.min(alignUp(chunkBytes), gpu.limits.maxBufferSize, gpu.limits.maxStorageBufferBindingSize);
  }

  /** Bytes handed out so far, alignment padding included. */
  get bytes(): number {
    return this.total;
  }

  alloc(shape: readonly number[], dtype: DType = 'f32', label?: string): Tensor {
    const size = Math.max(ALIGN, alignUp(numel(shape) * BYTES_PER_ELEMENT));
    if (size > this.gpu.limits.maxStorageBufferBindingSize) {
      throw new Error(
        `${this.label}: ${label ?? 'tensor'} [${shape}] needs ${size} bytes, over the device's ` +
          `maxStorageBufferBindingSize (${this.gpu.limits.maxStorageBufferBindingSize})`,
      );
    }
    const last = this.chunks[this.chunks.length - 1];
    if (!last || this.used + size > last.size) {
      const chunk = this.gpu.device.createBuffer({
        label: `${this.label}#${this.chunks.length}`,
        size: Math.max(size, this.chunkBytes),
        usage: storageUsage(),
      });
      this.chunks.push(chunk);
      this.used = 0;
    }
    const buffer = this.chunks[this.chunks.length - 1];
    const t: Tensor = { buffer, offset: this.used, shape: [...shape], dtype, label };
    this.used += size;
    this.total += size;
    return t;
  }

  /** alloc() and fill from host data. */
  upload(data: ArrayLike<number>, shape: readonly number[], dtype: DType = 'f32', label?: string): Tensor {
    const t = this.alloc(shape, dtype, label);
    writeTensor(this.gpu, t, data);
    return t;
  }

  destroy(): void {
    for (const c of this.chunks) c.destroy();
    this.chunks.length = 0;
    this.used = 0;
    this.total = 0;
  }
}

/** A tensor with a GPUBuffer of its own (no aliasing constraints with anything else). */
export function createTensor(gpu: Gpu, shape: readonly number[], dtype: DType = 'f32', label?: string): Tensor {
  const buffer = gpu.device.createBuffer({
    label: label ?? 'tensor',
    size: Math.max(ALIGN, alignUp(numel(shape) * BYTES_PER_ELEMENT)),
    usage: storageUsage(),
  });
  return { buffer, offset: 0, shape: [...shape], dtype, label };
}

/** createTensor() filled from host data (converted to the dtype: float64 inputs are rounded to f32). */
export function uploadTensor(
  gpu: Gpu,
  data: ArrayLike<number>,
  shape: readonly number[],
  dtype: DType = 'f32',
  label?: string,
): Tensor {
  const t = createTensor(gpu, shape, dtype, label);
  writeTensor(gpu, t, data);
  return t;
}

/**
 * Queues a host-to-GPU copy (queue.writeBuffer). It is ordered with queue submissions, so it lands
 * before any command buffer submitted after this call.
 */
export function writeTensor(gpu: Gpu, t: Tensor, data: ArrayLike<number>): void {
  const n = numel(t.shape);
  if (data.length !== n) throw new Error(`writeTensor: ${data.length} values for ${t.label ?? 'tensor'} [${t.shape}]`);
  const arr = hostArray(t.dtype, data);
  gpu.device.queue.writeBuffer(t.buffer, t.offset, arr.buffer, arr.byteOffset, arr.byteLength);
}

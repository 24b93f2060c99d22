// Readback: the one way data comes back from the GPU. Tensors are copied into a mappable staging
// buffer by a command buffer (the caller's own, so a training step stays one submit), then the buffer
// is mapped once. A lost device rejects the read instead of leaving the map pending forever.
import { unpackF16 } from '../model/safetensors-dtypes.ts';
import type { Gpu } from './device.ts';
import { Recorder } from './recorder.ts';
import { byteLength, numel, type HostArray, type Tensor } from './tensor.ts';

function toHost(t: Tensor, bytes: ArrayBuffer): HostArray {
  switch (t.dtype) {
    case 'f32':
      return new Float32Array(bytes);
    case 'i32':
      return new Int32Array(bytes);
    case 'u32':
      return new Uint32Array(bytes);
    case 'f16':
      return unpackF16(new Uint32Array(bytes), numel(t.shape));
  }
}

/** A staging buffer, reused (and grown) from one read to the next. */
export class Readback {
  private staging: GPUBuffer | null = null;
  private pending: { tensors: Tensor[]; offsets: number[]; bytes: number } | null = null;

  constructor(
    readonly gpu: Gpu,
    readonly label = 'readback',
  ) {}

  /** Records copies of `tensors` into the staging buffer; read() them once `rec` is submitted. */
  copy(rec: Recorder, tensors: Tensor[]): void {
    if (this.pending) throw new Error(`${this.label}: copy() again before read()`);
    const offsets: number[] = [];
    let bytes = 0;
    for (const t of tensors) {
      offsets.push(bytes);
      bytes += Math.ceil(byteLength(t) / 256) * 256;
    }
    if (!this.staging || this.staging.size < bytes) {
      this.staging?.destroy();
      this.staging = this.gpu.device.createBuffer({
        label: this.label,
        size: Math.max(256, bytes),
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
    }
    const staging = this.staging;
    tensors.forEach((t, i) => {
      if (byteLength(t) > 0) rec.copy(t, { buffer: staging, offset: offsets[i], shape: t.shape, dtype: t.dtype });
    });
    this.pending = { tensors, offsets, bytes: Math.max(256, bytes) };
  }

  /** The tensors of the last copy(), after its command buffer ran; then throws any pending GPU error. */
  async read(): Promise<HostArray[]> {
    const p = this.pending;
    const staging = this.staging;
    if (!p || !staging) throw new Error(`${this.label}: read() without copy()`);
    this.pending = null;
    const lost = this.gpu.lost.then((msg) => Promise.reject(new Error(msg)));
    await Promise.race([staging.mapAsync(GPUMapMode.READ, 0, p.bytes), lost]);
    const range = staging.getMappedRange(0, p.bytes);
    const out = p.tensors.map((t, i) => toHost(t, range.slice(p.offsets[i], p.offsets[i] + byteLength(t))));
    staging.unmap();
    await this.gpu.checkErrors();
    return out;
  }

  destroy(): void {
    this.staging?.destroy();
    this.staging = null;
    this.pending = null;
  }
}

/** Reads several tensors back with one submit and one map; afterwards throws any pending GPU error. */
export async function readTensors(gpu: Gpu, tensors: Tensor[]): Promise<HostArray[]> {
  const readback = new Readback(gpu);
  try {
    const rec = new Recorder(gpu, 'readback');
    readback.copy(rec, tensors);
    rec.submit();
    return await readback.read();
  } finally {
    readback.destroy();
  }
}

/** One f32 tensor, read back. */
export async function readF32(gpu: Gpu, t: Tensor): Promise<Float32Array> {
  if (t.dtype !== 'f32') throw new Error(`readF32: ${t.label ?? 'tensor'} is ${t.dtype}`);
  return (await readTensors(gpu, [t]))[0] as Float32Array;
}

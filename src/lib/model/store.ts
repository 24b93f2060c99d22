// A ParamStore is a parameter layout (params.ts) bound to real GPUBuffers: the base weights, the
// trainable parameters, their gradients and AdamW's two moments are four stores of one shape each.
import { storageUsage, writeBuffer, type Gpu, type Tensor } from '../gpu/index.ts';
import type { ParamChunk, ParamEntry, ParamLayout } from './params.ts';

export class ParamStore {
  readonly buffers: GPUBuffer[];

  constructor(
    readonly gpu: Gpu,
    readonly layout: ParamLayout,
    readonly label: string,
  ) {
    this.buffers = layout.bufferSizes.map((size, i) =>
      gpu.device.createBuffer({ label: `${label}#${i}`, size: size * 4, usage: storageUsage() }),
    );
  }

  /** Total bytes of GPU memory held. */
  get bytes(): number {
    return this.layout.bufferSizes.reduce((a, b) => a + b * 4, 0);
  }

  entry(name: string): ParamEntry {
    const e = this.layout.entries.get(name);
    if (!e) throw new Error(`${this.label}: no parameter named ${name}`);
    return e;
  }

  has(name: string): boolean {
    return this.layout.entries.has(name);
  }

  chunkTensor(e: ParamEntry, c: ParamChunk): Tensor {
    const shape = e.shape.length > 1 ? [c.rows, ...e.shape.slice(1)] : [c.rows];
    return { buffer: this.buffers[c.buffer], offset: c.offset * 4, shape, dtype: 'f32', label: `${this.label}:${e.name}` };
  }

  /** The whole tensor as one binding (it must not be split). */
  tensor(name: string): Tensor {
    const e = this.entry(name);
    if (e.chunks.length !== 1) {
      throw new Error(
        `${this.label}: ${name} [${e.shape}] (${e.size * 4} bytes) is larger than this device's largest storage binding ` +
          `(${Math.max(...this.layout.bufferSizes) * 4} bytes) and is read whole here`,
      );
    }
    return this.chunkTensor(e, e.chunks[0]);
  }

  /** Row block `block` of `blocks` equal blocks (GPT-2's q|k|v in c_attn). */
  block(name: string, block: number, blocks: number): Tensor {
    if (blocks === 1) return this.tensor(name);
    const e = this.entry(name);
    if (e.chunks.length !== blocks) throw new Error(`${this.label}: ${name} is not stored as ${blocks} blocks`);
    return this.chunkTensor(e, e.chunks[block]);
  }

  /** Every chunk with the rows it holds (one chunk unless the tensor outgrew a buffer). */
  chunks(name: string): { tensor: Tensor; rowStart: number; rows: number }[] {
    const e = this.entry(name);
    return e.chunks.map((c) => ({ tensor: this.chunkTensor(e, c), rowStart: c.rowStart, rows: c.rows }));
  }

  /** Uploads one whole tensor (row-major, its full shape) through queue.writeBuffer. */
  write(name: string, data: Float32Array): void {
    const e = this.entry(name);
    if (data.length !== e.size) throw new Error(`${this.label}: ${name} needs ${e.size} values, got ${data.length}`);
    const rowSize = e.size / (e.shape[0] ?? 1);
    for (const c of e.chunks) {
      const part = data.subarray(c.rowStart * rowSize, c.rowStart * rowSize + c.size);
      writeBuffer(this.gpu, this.buffers[c.buffer], c.offset * 4, part);
    }
  }

  /** Uploads a whole store from one flat host array laid out like `layout` (see readAll). */
  writeAll(flat: Float32Array): void {
    let base = 0;
    this.layout.bufferSizes.forEach((size, i) => {
      const part = flat.subarray(base, base + size);
      writeBuffer(this.gpu, this.buffers[i], 0, part);
      base += size;
    });
  }

  /** Every buffer read back into one flat host array (buffers concatenated). */
  async readAll(): Promise<Float32Array> {
    const total = this.layout.bufferSizes.reduce((a, b) => a + b, 0);
    const staging = this.gpu.device.createBuffer({
      label: `${this.label} readback`,
      size: Math.max(4, total * 4),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      const enc = this.gpu.device.createCommandEncoder({ label: `${this.label} readback` });
      let base = 0;
      this.layout.bufferSizes.forEach((size, i) => {
        enc.copyBufferToBuffer(this.buffers[i], 0, staging, base * 4, size * 4);
        base += size;
      });
      this.gpu.device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const out = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      await this.gpu.checkErrors();
      return out;
    } finally {
      staging.destroy();
    }
  }

  /** One tensor out of a flat array from readAll(), in its full row-major shape. */
  extract(flat: Float32Array, name: string): Float32Array {
    const e = this.entry(name);
    const starts = this.bufferStarts();
    const out = new Float32Array(e.size);
    const rowSize = e.size / (e.shape[0] ?? 1);
    for (const c of e.chunks) {
      const from = starts[c.buffer] + c.offset;
      out.set(flat.subarray(from, from + c.size), c.rowStart * rowSize);
    }
    return out;
  }

  /** Writes one tensor into a flat array laid out like readAll()'s. */
  insert(flat: Float32Array, name: string, data: Float32Array): void {
    const e = this.entry(name);
    if (data.length !== e.size) throw new Error(`${this.label}: ${name} needs ${e.size} values, got ${data.length}`);
    const starts = this.bufferStarts();
    const rowSize = e.size / (e.shape[0] ?? 1);
    for (const c of e.chunks) {
      flat.set(data.subarray(c.rowStart * rowSize, c.rowStart * rowSize + c.size), starts[c.buffer] + c.offset);
    }
  }

  /** Elements in all buffers together (the length of readAll()'s array). */
  get totalElements(): number {
    return this.layout.bufferSizes.reduce((a, b) => a + b, 0);
  }

  private bufferStarts(): number[] {
    const starts: number[] = [];
    let s = 0;
    for (const size of this.layout.bufferSizes) {
      starts.push(s);
      s += size;
    }
    return starts;
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
  }
}

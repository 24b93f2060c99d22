// A ParamStore is a parameter layout (params.ts) bound to real GPUBuffers: the base weights, the
// trainable parameters, their gradients and AdamW's two moments are four stores of one shape each.
// Only the base store holds f16 entries (frozen weights in half precision); the others are all f32.
import { storageUsage, writeBuffer, type Gpu, type Recorder, type Tensor } from '../gpu/index.ts';
import { decodeF16 } from '../ops/f16/f16.ts';
import { wordsOf, type ParamChunk, type ParamEntry, type ParamLayout } from './params.ts';
import { packF16, unpackF16 } from './safetensors-dtypes.ts';

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
    return { buffer: this.buffers[c.buffer], offset: c.offset * 4, shape, dtype: e.dtype, label: `${this.label}:${e.name}` };
  }

  /** The whole tensor as one binding (it must not be split). */
  tensor(name: string): Tensor {
    const e = this.entry(name);
    if (e.chunks.length !== 1) {
      throw new Error(
        `${this.label}: ${name} [${e.shape}] (${wordsOf(e.size, e.dtype) * 4} bytes) is larger than this device's largest storage binding ` +
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

  /**
   * Uploads one whole tensor (row-major, its full shape) through queue.writeBuffer; an f16 entry is
   * rounded to half precision (to nearest even), and refuses values that would overflow to ±Infinity.
   */
  write(name: string, data: Float32Array): void {
    const e = this.entry(name);
    if (data.length !== e.size) throw new Error(`${this.label}: ${name} needs ${e.size} values, got ${data.length}`);
    const rowSize = e.size / (e.shape[0] ?? 1);
    for (const c of e.chunks) {
      const part = data.subarray(c.rowStart * rowSize, c.rowStart * rowSize + c.size);
      if (e.dtype === 'f16') {
        const { words, overflow } = packF16(part);
        if (overflow) throw new Error(`${this.label}: ${name} has ${overflow} values beyond f16's range (±65504); store it as f32`);
        writeBuffer(this.gpu, this.buffers[c.buffer], c.offset * 4, words);
      } else {
        writeBuffer(this.gpu, this.buffers[c.buffer], c.offset * 4, part);
      }
    }
  }

  /**
   * Records copies of tensor `name` from this store into `dst` (an f32 store with an entry of the
   * same name and shape), decoding f16 on the GPU. The two stores may chunk the tensor at different
   * rows (an f16 chunk holds twice the rows of an f32 one), so every overlap of a source and a
   * destination chunk is copied on its own.
   */
  copyTo(rec: Recorder, dst: ParamStore, name: string): void {
    const s = this.entry(name);
    const d = dst.entry(name);
    if (d.dtype !== 'f32' || d.size !== s.size) throw new Error(`${dst.label}: ${name} cannot receive ${this.label}'s ${s.dtype}[${s.shape}]`);
    const rowSize = s.size / (s.shape[0] ?? 1);
    for (const dc of d.chunks) {
      const out = dst.chunkTensor(d, dc);
      for (const sc of s.chunks) {
        const r0 = Math.max(dc.rowStart, sc.rowStart);
        const r1 = Math.min(dc.rowStart + dc.rows, sc.rowStart + sc.rows);
        if (r1 <= r0) continue;
        const n = (r1 - r0) * rowSize;
        const outAt = (r0 - dc.rowStart) * rowSize;
        const inAt = (r0 - sc.rowStart) * rowSize;
        const inp = this.chunkTensor(s, sc);
        if (s.dtype === 'f16') {
          decodeF16(rec, out, inp, n, outAt, inAt);
        } else {
          rec.copy({ ...inp, shape: [n], offset: inp.offset + inAt * 4 }, { ...out, shape: [n], offset: out.offset + outAt * 4 });
        }
      }
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

  /**
   * Every buffer read back into one flat host array (buffers concatenated), word for word: f16
   * entries come back packed (extract() decodes them).
   */
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
      if (e.dtype === 'f16') {
        const words = new Uint32Array(flat.buffer, flat.byteOffset + from * 4, wordsOf(c.size, 'f16'));
        out.set(unpackF16(words, c.size), c.rowStart * rowSize);
      } else {
        out.set(flat.subarray(from, from + c.size), c.rowStart * rowSize);
      }
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
      const part = data.subarray(c.rowStart * rowSize, c.rowStart * rowSize + c.size);
      if (e.dtype === 'f16') new Uint32Array(flat.buffer, flat.byteOffset, flat.length).set(packF16(part).words, starts[c.buffer] + c.offset);
      else flat.set(part, starts[c.buffer] + c.offset);
    }
  }

  /** Words in all buffers together (the length of readAll()'s array). */
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

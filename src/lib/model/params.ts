// The parameter table: where every named tensor lives on the GPU.
//
// Weights are packed, in order, into a few large f32 buffers, each at most `maxBufferBytes` (the
// device's maxStorageBufferBindingSize, so any tensor in it can be bound). Offsets are aligned to
// 256 bytes, WebGPU's minStorageBufferOffsetAlignment. A tensor bigger than one buffer is split
// along its first dimension into chunks of whole rows, each chunk in its own buffer: the ops that
// read such a tensor (embedding lookup, lm_head, any projection) run once per chunk, each chunk
// giving a block of output features.

export interface ParamSpec {
  name: string;
  shape: number[];
  /**
   * Store the tensor as chunks of this many rows, each starting 256-byte aligned, so that each
   * chunk can be bound on its own (GPT-2's fused c_attn holds q, k and v as three row blocks).
   */
  chunkRows?: number;
}

/** One contiguous piece of a tensor: rows [rowStart, rowStart + rows) of its first dimension. */
export interface ParamChunk {
  /** index of the buffer holding it */
  buffer: number;
  /** offset in the buffer, in f32 elements (a multiple of ALIGN_ELEMENTS) */
  offset: number;
  rowStart: number;
  rows: number;
  /** elements in this chunk (rows · row size) */
  size: number;
}

export interface ParamEntry {
  name: string;
  shape: number[];
  /** total elements */
  size: number;
  /** one chunk unless the tensor is bigger than a buffer */
  chunks: ParamChunk[];
}

export interface ParamLayout {
  entries: Map<string, ParamEntry>;
  /** size of each buffer in f32 elements */
  bufferSizes: number[];
}

/** 256 bytes = WebGPU's minStorageBufferOffsetAlignment (the largest value a device may report). */
export const ALIGN_ELEMENTS = 64;

export const alignUp = (n: number, a = ALIGN_ELEMENTS) => Math.ceil(n / a) * a;

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Packs `specs` in order into buffers of at most `maxBufferBytes`. Tensors are never reordered, so
 * the layout (and everything stored in it, like optimizer state) only depends on the spec list.
 */
export function layoutParams(specs: readonly ParamSpec[], maxBufferBytes: number): ParamLayout {
  const cap = Math.floor(maxBufferBytes / 4 / ALIGN_ELEMENTS) * ALIGN_ELEMENTS; // elements per buffer
  if (cap <= 0) throw new Error(`layoutParams: maxBufferBytes ${maxBufferBytes} is too small`);
  const entries = new Map<string, ParamEntry>();
  const bufferSizes: number[] = [];
  let used = 0; // elements used in the last buffer
  const place = (size: number): { buffer: number; offset: number } => {
    if (bufferSizes.length === 0 || alignUp(used) + size > cap) {
      bufferSizes.push(0);
      used = 0;
    }
    const offset = alignUp(used);
    used = offset + size;
    bufferSizes[bufferSizes.length - 1] = used;
    return { buffer: bufferSizes.length - 1, offset };
  };
  for (const { name, shape, chunkRows } of specs) {
    if (entries.has(name)) throw new Error(`layoutParams: duplicate parameter ${name}`);
    const size = numel(shape);
    const chunks: ParamChunk[] = [];
    if (chunkRows !== undefined) {
      const rowSize = size / shape[0];
      if (shape[0] % chunkRows !== 0 || rowSize * chunkRows > cap) {
        throw new Error(`layoutParams: ${name} [${shape}] cannot be stored as blocks of ${chunkRows} rows within ${maxBufferBytes} bytes`);
      }
      for (let r = 0; r < shape[0]; r += chunkRows) {
        chunks.push({ ...place(chunkRows * rowSize), rowStart: r, rows: chunkRows, size: chunkRows * rowSize });
      }
    } else if (size <= cap) {
      chunks.push({ ...place(size), rowStart: 0, rows: shape[0] ?? 1, size });
    } else {
      const rowSize = size / shape[0];
      const rowsPerChunk = Math.floor(cap / rowSize);
      if (rowsPerChunk < 1) {
        throw new Error(`layoutParams: one row of ${name} (${rowSize * 4} bytes) exceeds the ${maxBufferBytes}-byte buffer limit`);
      }
      for (let r = 0; r < shape[0]; r += rowsPerChunk) {
        const rows = Math.min(rowsPerChunk, shape[0] - r);
        chunks.push({ ...place(rows * rowSize), rowStart: r, rows, size: rows * rowSize });
      }
    }
    entries.set(name, { name, shape: [...shape], size, chunks });
  }
  return { entries, bufferSizes: bufferSizes.map((s) => alignUp(Math.max(s, 1))) };
}

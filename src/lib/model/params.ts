// The parameter table: where every named tensor lives on the GPU.
//
// Weights are packed, in order, into a few large buffers, each at most `maxBufferBytes` (the
// device's maxStorageBufferBindingSize, so any tensor in it can be bound). Sizes and offsets count
// 4-byte words: an f32 element is one word, an f16 element (frozen base weights stored in half
// precision) half of one, two to a word. Offsets are aligned to
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
  /** storage type (default f32); f16 only for frozen base weights read by matmul or embedding */
  dtype?: 'f32' | 'f16';
}

/** One contiguous piece of a tensor: rows [rowStart, rowStart + rows) of its first dimension. */
export interface ParamChunk {
  /** index of the buffer holding it */
  buffer: number;
  /** offset in the buffer, in 4-byte words (a multiple of ALIGN_ELEMENTS) */
  offset: number;
  rowStart: number;
  rows: number;
  /** elements in this chunk (rows · row size); it spans wordsOf(size, dtype) words */
  size: number;
}

export interface ParamEntry {
  name: string;
  shape: number[];
  dtype: 'f32' | 'f16';
  /** total elements */
  size: number;
  /** one chunk unless the tensor is bigger than a buffer */
  chunks: ParamChunk[];
}

export interface ParamLayout {
  entries: Map<string, ParamEntry>;
  /** size of each buffer in 4-byte words */
  bufferSizes: number[];
}

/** 256 bytes = WebGPU's minStorageBufferOffsetAlignment (the largest value a device may report), in words. */
export const ALIGN_ELEMENTS = 64;

/** 4-byte words that `n` elements of `dtype` occupy. */
export const wordsOf = (n: number, dtype: 'f32' | 'f16' = 'f32') => (dtype === 'f16' ? Math.ceil(n / 2) : n);

export const alignUp = (n: number, a = ALIGN_ELEMENTS) => Math.ceil(n / a) * a;

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Packs `specs` in order into buffers of at most `maxBufferBytes`. Tensors are never reordered, so
 * the layout (and everything stored in it, like optimizer state) only depends on the spec list.
 */
export function layoutParams(specs: readonly ParamSpec[], maxBufferBytes: number): ParamLayout {
  const cap = Math.floor(maxBufferBytes / 4 / ALIGN_ELEMENTS) * ALIGN_ELEMENTS; // words per buffer
  if (cap <= 0) throw new Error(`layoutParams: maxBufferBytes ${maxBufferBytes} is too small`);
  const entries = new Map<string, ParamEntry>();
  const bufferSizes: number[] = [];
  let used = 0; // words used in the last buffer
  const place = (words: number): { buffer: number; offset: number } => {
    if (bufferSizes.length === 0 || alignUp(used) + words > cap) {
      bufferSizes.push(0);
      used = 0;
    }
    const offset = alignUp(used);
    used = offset + words;
    bufferSizes[bufferSizes.length - 1] = used;
    return { buffer: bufferSizes.length - 1, offset };
  };
  for (const { name, shape, chunkRows, dtype = 'f32' } of specs) {
    if (entries.has(name)) throw new Error(`layoutParams: duplicate parameter ${name}`);
    const size = numel(shape);
    // Every chunk starts on a 256-byte boundary of its own (place aligns), so a chunk of f16 rows
    // binds at an aligned offset whatever its row count; only its end may share a word.
    const elementCap = dtype === 'f16' ? 2 * cap : cap;
    const chunks: ParamChunk[] = [];
    if (chunkRows !== undefined) {
      const rowSize = size / shape[0];
      if (shape[0] % chunkRows !== 0 || rowSize * chunkRows > elementCap) {
        throw new Error(`layoutParams: ${name} [${shape}] cannot be stored as blocks of ${chunkRows} rows within ${maxBufferBytes} bytes`);
      }
      for (let r = 0; r < shape[0]; r += chunkRows) {
        chunks.push({ ...place(wordsOf(chunkRows * rowSize, dtype)), rowStart: r, rows: chunkRows, size: chunkRows * rowSize });
      }
    } else if (size <= elementCap) {
      chunks.push({ ...place(wordsOf(size, dtype)), rowStart: 0, rows: shape[0] ?? 1, size });
    } else {
      const rowSize = size / shape[0];
      const rowsPerChunk = Math.floor(elementCap / rowSize);
      if (rowsPerChunk < 1) {
        throw new Error(`layoutParams: one row of ${name} (${wordsOf(rowSize, dtype) * 4} bytes) exceeds the ${maxBufferBytes}-byte buffer limit`);
      }
      for (let r = 0; r < shape[0]; r += rowsPerChunk) {
        const rows = Math.min(rowsPerChunk, shape[0] - r);
        chunks.push({ ...place(wordsOf(rows * rowSize, dtype)), rowStart: r, rows, size: rows * rowSize });
      }
    }
    entries.set(name, { name, shape: [...shape], dtype, size, chunks });
  }
  return { entries, bufferSizes: bufferSizes.map((s) => alignUp(Math.max(s, 1))) };
}

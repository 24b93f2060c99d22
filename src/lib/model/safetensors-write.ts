// Writing safetensors files (the format: safetensors.ts).

import { type Dtype, DTYPE_BYTES, isDtype, isNonNegativeInteger, numElements } from './safetensors-dtypes.ts';
import { SafetensorsError } from './safetensors-read.ts';

/** A tensor to write: its dtype, shape and little-endian data (any typed array of matching byte size). */
export interface TensorToWrite {
  dtype: Dtype;
  shape: readonly number[];
  data: ArrayBufferView;
}

/**
 * Serialises tensors to a safetensors file, as the reference implementation does: tensors ordered by
 * element size (largest first, so every tensor stays aligned to its element size) then by name,
 * `__metadata__` first in the header, and the header padded with spaces to a multiple of 8 bytes so
 * the data section starts 8-byte aligned.
 */
export function writeSafetensors(
  tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new SafetensorsError('"__metadata__" is reserved and cannot name a tensor');
    if (!isDtype(t.dtype)) throw new SafetensorsError(`tensor "${name}": unknown dtype ${String(t.dtype)}`);
    if (!t.shape.every((d) => isNonNegativeInteger(d))) {
      throw new SafetensorsError(`tensor "${name}": shape ${JSON.stringify(t.shape)} must hold non-negative integers`);
    }
    const expected = numElements(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== expected) {
      throw new SafetensorsError(
        `tensor "${name}": shape [${t.shape.join(', ')}] of ${t.dtype} needs ${expected} bytes, data has ${t.data.byteLength}`,
      );
    }
  }
  entries.sort(([an, a], [bn, b]) => DTYPE_BYTES[b.dtype] - DTYPE_BYTES[a.dtype] || (an < bn ? -1 : an > bn ? 1 : 0));

  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`metadata "${k}" must be a string`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, t] of entries) {
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, padded, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + padded);
  let pos = 8 + padded;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

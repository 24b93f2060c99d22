// Reading safetensors files (the format: safetensors.ts). Every file comes from outside (a download, a
// user's drop, IndexedDB), so the parser trusts nothing: the header length is bounded, every offset is
// checked to lie inside the data section, offsets are ordered and do not overlap, and each tensor's
// byte size is exactly shape × dtype size. Errors name the tensor and the problem.

import { showValue } from '../show.ts';
import { bf16ToF32, type Dtype, DTYPE_BYTES, f16ToF32, isDtype, isNonNegativeInteger, numElements } from './safetensors-dtypes.ts';

/**
 * Largest header we accept, in bytes. The reference implementation refuses headers over 100 MB;
 * a header is a few hundred bytes per tensor, so even a 100k-tensor model stays far below this.
 */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** [begin, end) in bytes, relative to the start of the data section. */
  dataOffsets: [number, number];
}

export interface SafetensorsFile {
  /** Tensors in the order they appear in the data section. */
  tensors: TensorInfo[];
  /** Lookup by name. */
  byName: Map<string, TensorInfo>;
  /** The `__metadata__` string map, or an empty object if the file has none. */
  metadata: Record<string, string>;
  /** The whole file. */
  bytes: Uint8Array;
  /** Absolute offset of the data section in `bytes` (8 + N). */
  dataStart: number;
}

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

function toUint8(input: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  return new Uint8Array(input);
}

/**
 * Parses and validates a safetensors file. Tensor data is not copied; use `tensorBytes` or
 * `tensorToFloat32` to read it.
 *
 * @param source where the bytes came from, used in error messages (e.g. a file name)
 */
export function parseSafetensors(
  input: ArrayBuffer | ArrayBufferView,
  opts: { source?: string; maxHeaderBytes?: number } = {},
): SafetensorsFile {
  const bytes = toUint8(input);
  const where = opts.source ? `${opts.source}: ` : '';
  const fail = (msg: string): never => {
    throw new SafetensorsError(`${where}${msg}`);
  };
  const maxHeader = opts.maxHeaderBytes ?? MAX_HEADER_BYTES;

  if (bytes.byteLength < 8) {
    fail(`not a safetensors file: ${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  // N is a u64; anything with high bits set is far beyond MAX_HEADER_BYTES.
  const headerLen = hi * 2 ** 32 + lo;
  if (hi !== 0 || headerLen > maxHeader) {
    fail(`header length ${headerLen} bytes exceeds the limit of ${maxHeader} bytes (corrupt or not a safetensors file)`);
  }
  if (8 + headerLen > bytes.byteLength) {
    fail(`header length ${headerLen} bytes runs past the end of the file (${bytes.byteLength} bytes): file truncated?`);
  }
  if (headerLen < 2) fail(`header length ${headerLen} bytes is too short for a JSON object`);

  let headerText: string;
  try {
    headerText = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    return fail('header is not valid UTF-8');
  }
  if (!headerText.startsWith('{')) fail('header does not start with "{": not a safetensors file');

  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    fail('header JSON is not an object');
  }

  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];

  for (const [key, entry] of Object.entries(header as Record<string, unknown>)) {
    // A name is quoted in messages as it is (the page shows text, never markup), but not at any length.
    const name = key.length > 200 ? `${key.slice(0, 200)}…` : key;
    if (key === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
        fail('__metadata__ must be an object of strings');
      }
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__[${showValue(k)}] must be a string, got ${typeof v}`);
        metadata[k] = v as string;
      }
      continue;
    }
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      fail(`tensor "${name}": header entry is not an object`);
    }
    const e = entry as Record<string, unknown>;
    if (!isDtype(e.dtype)) fail(`tensor "${name}": unknown dtype ${showValue(e.dtype)}`);
    const dtype = e.dtype as Dtype;
    if (!Array.isArray(e.shape) || !e.shape.every(isNonNegativeInteger)) {
      fail(`tensor "${name}": shape must be an array of non-negative integers, got ${showValue(e.shape)}`);
    }
    const shape = (e.shape as number[]).slice();
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isNonNegativeInteger)) {
      fail(`tensor "${name}": data_offsets must be two non-negative integers, got ${showValue(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (end < begin) fail(`tensor "${name}": data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) {
      fail(`tensor "${name}": data_offsets [${begin}, ${end}] run past the data section (${dataLen} bytes): file truncated?`);
    }
    const expected = numElements(shape) * DTYPE_BYTES[dtype];
    if (!Number.isSafeInteger(expected)) {
      fail(`tensor "${name}": shape ${showValue(shape)} of ${dtype} is too large: its byte size overflows (more than 2^53 bytes)`);
    }
    if (end - begin !== expected) {
      fail(
        `tensor "${name}": shape [${shape.length > 16 ? `${shape.slice(0, 16).join(', ')}, …` : shape.join(', ')}] of ${dtype} needs ${expected} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
      );
    }
    tensors.push({ name: key, dtype, shape, dataOffsets: [begin, end] });
  }

  // Ordered and non-overlapping: sort by begin and require each to start at or after the previous end.
  tensors.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  for (let i = 1; i < tensors.length; i++) {
    const prev = tensors[i - 1];
    const cur = tensors[i];
    if (cur.dataOffsets[0] < prev.dataOffsets[1]) {
      const cut = (n: string) => (n.length > 200 ? `${n.slice(0, 200)}…` : n);
      fail(
        `tensor "${cut(cur.name)}": data_offsets [${cur.dataOffsets.join(', ')}] overlap tensor "${cut(prev.name)}" [${prev.dataOffsets.join(', ')}]`,
      );
    }
  }

  const byName = new Map(tensors.map((t) => [t.name, t]));
  return { tensors, byName, metadata, bytes, dataStart };
}

function getInfo(file: SafetensorsFile, name: string): TensorInfo {
  const info = file.byName.get(name);
  if (!info) throw new SafetensorsError(`no tensor named "${name}" in this safetensors file`);
  return info;
}

/** The raw little-endian bytes of one tensor (a view into the file, not a copy). */
export function tensorBytes(file: SafetensorsFile, name: string): Uint8Array {
  const info = getInfo(file, name);
  return file.bytes.subarray(file.dataStart + info.dataOffsets[0], file.dataStart + info.dataOffsets[1]);
}

/** Copies bytes into a fresh, aligned buffer so typed-array views of any element size work. */
function alignedCopy(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}

/** One tensor as float32, converted from F32, F16, BF16 or F64. */
export function tensorToFloat32(file: SafetensorsFile, name: string): Float32Array {
  const { dtype } = getInfo(file, name);
  const buf = alignedCopy(tensorBytes(file, name));
  switch (dtype) {
    case 'F32':
      return new Float32Array(buf);
    case 'F16':
      return f16ToF32(new Uint16Array(buf));
    case 'BF16':
      return bf16ToF32(new Uint16Array(buf));
    case 'F64':
      return Float32Array.from(new Float64Array(buf));
    default:
      throw new SafetensorsError(`tensor "${name}": dtype ${dtype} is not a floating-point type`);
  }
}

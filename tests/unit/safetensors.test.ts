import { describe, expect, it } from 'vitest';
import {
  bf16ToF32,
  f16ToF32,
  MAX_HEADER_BYTES,
  parseSafetensors,
  SafetensorsError,
  tensorBytes,
  tensorToFloat32,
  writeSafetensors,
} from '../../src/lib/model/safetensors';
import { i32 } from '../gpu/fixtures';

/** Builds a file by hand from a header object and raw data bytes, exactly as the spec lays it out. */
function handMade(header: unknown, data: Uint8Array, opts: { headerText?: string; lenOverride?: bigint } = {}) {
  const text = opts.headerText ?? JSON.stringify(header);
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, opts.lenOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function le32(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setFloat32(i * 4, x, true));
  return b;
}

describe('parseSafetensors on a hand-built file', () => {
  const header = {
    __metadata__: { format: 'pt' },
    'w.weight': { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
    ids: { dtype: 'I32', shape: [3], data_offsets: [16, 28] },
  };
  const data = new Uint8Array(28);
  data.set(le32([1, -2, 0.5, 3]), 0);
  const dv = new DataView(data.buffer);
  [7, -100, 2147483647].forEach((x, i) => dv.setInt32(16 + i * 4, x, true));
  const file = parseSafetensors(handMade(header, data));

  it('reads names, dtypes, shapes and metadata', () => {
    expect(file.tensors.map((t) => t.name)).toEqual(['w.weight', 'ids']);
    expect(file.byName.get('w.weight')).toMatchObject({ dtype: 'F32', shape: [2, 2], dataOffsets: [0, 16] });
    expect(file.metadata).toEqual({ format: 'pt' });
  });

  it('reads F32 and I32 values', () => {
    expect(Array.from(tensorToFloat32(file, 'w.weight'))).toEqual([1, -2, 0.5, 3]);
    expect(Array.from(i32(file, 'ids'))).toEqual([7, -100, 2147483647]);
    expect(tensorBytes(file, 'ids').byteLength).toBe(12);
  });

  it('reads tensors even when the data section is not 4-byte aligned', () => {
    // A header of odd length puts the data at an odd absolute offset.
    const text = JSON.stringify({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }) + ' ';
    const f = parseSafetensors(handMade(null, le32([6.25]), { headerText: text }));
    expect(f.dataStart % 4).not.toBe(0);
    expect(Array.from(tensorToFloat32(f, 'x'))).toEqual([6.25]);
  });

  it('names a missing tensor', () => {
    expect(() => tensorToFloat32(file, 'nope')).toThrow(/no tensor named "nope"/);
  });

  it('refuses to read an integer tensor as float', () => {
    expect(() => tensorToFloat32(file, 'ids')).toThrow(/"ids".*not a floating-point/);
  });
});

describe('dtype conversion', () => {
  it('decodes known half-precision bit patterns', () => {
    const bits = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x7c00, 0xfc00, 0x0000, 0x8000, 0x3555]);
    const v = f16ToF32(bits);
    expect(v[0]).toBe(1);
    expect(v[1]).toBe(-2);
    expect(v[2]).toBe(65504); // largest half
    expect(v[3]).toBe(2 ** -24); // smallest subnormal
    expect(v[4]).toBe(2 ** -14); // smallest normal
    expect(v[5]).toBe(Infinity);
    expect(v[6]).toBe(-Infinity);
    expect(v[7]).toBe(0);
    expect(Object.is(v[8], -0)).toBe(true);
    expect(v[9]).toBeCloseTo(1 / 3, 3);
    expect(f16ToF32(new Uint16Array([0x7e00])).every(Number.isNaN)).toBe(true);
  });

  it('decodes known bfloat16 bit patterns', () => {
    const v = bf16ToF32(new Uint16Array([0x3f80, 0xc000, 0x4049, 0x7f80]));
    expect(v[0]).toBe(1);
    expect(v[1]).toBe(-2);
    expect(v[2]).toBeCloseTo(3.140625, 6);
    expect(v[3]).toBe(Infinity);
  });

  it('reads F16, BF16 and F64 tensors as float32', () => {
    const half = new Uint16Array([0x3800, 0xbe00]); // 0.5, -1.5
    const bf = new Uint16Array([0x4000, 0xbe80]); // 2, -0.25
    const f64 = new Float64Array([1.25, -8]);
    const bytes = writeSafetensors({
      h: { dtype: 'F16', shape: [2], data: half },
      b: { dtype: 'BF16', shape: [2], data: bf },
      d: { dtype: 'F64', shape: [2], data: f64 },
    });
    const f = parseSafetensors(bytes);
    expect(Array.from(tensorToFloat32(f, 'h'))).toEqual([0.5, -1.5]);
    expect(Array.from(tensorToFloat32(f, 'b'))).toEqual([2, -0.25]);
    expect(Array.from(tensorToFloat32(f, 'd'))).toEqual([1.25, -8]);
  });
});

describe('writeSafetensors', () => {
  it('writes the layout of the reference implementation: 8-byte aligned header padded with spaces', () => {
    const bytes = writeSafetensors({ a: { dtype: 'F32', shape: [1], data: new Float32Array([1]) } });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const json = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    expect(n % 8).toBe(0);
    expect(n).toBe(Math.ceil(json.length / 8) * 8);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(header).toBe(json + ' '.repeat(n - json.length));
    expect(bytes.byteLength).toBe(8 + n + 4);
    expect(new DataView(bytes.buffer).getFloat32(8 + n, true)).toBe(1);
  });

  it('orders tensors by name, metadata first, and round-trips them', () => {
    const bytes = writeSafetensors(
      {
        'z.weight': { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
        'a.weight': { dtype: 'F32', shape: [1], data: new Float32Array([9]) },
        'm.ids': { dtype: 'I32', shape: [2], data: new Int32Array([-100, 4]) },
      },
      { format: 'pt' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(Object.keys(JSON.parse(header))).toEqual(['__metadata__', 'a.weight', 'm.ids', 'z.weight']);
    const f = parseSafetensors(bytes);
    expect(f.metadata).toEqual({ format: 'pt' });
    expect(Array.from(tensorToFloat32(f, 'z.weight'))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(f.byName.get('z.weight')!.shape).toEqual([2, 3]);
    expect(Array.from(i32(f, 'm.ids'))).toEqual([-100, 4]);
  });

  it('keeps every tensor aligned to its element size when sizes are mixed', () => {
    const bytes = writeSafetensors({
      a: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
      b: { dtype: 'F32', shape: [1], data: new Float32Array([1]) },
      c: { dtype: 'F16', shape: [1], data: new Uint16Array([0x3c00]) },
      d: { dtype: 'F64', shape: [1], data: new Float64Array([1]) },
    });
    const f = parseSafetensors(bytes);
    for (const t of f.tensors) {
      const size = { U8: 1, F16: 2, F32: 4, F64: 8 }[t.dtype as 'U8'];
      expect((f.dataStart + t.dataOffsets[0]) % size).toBe(0);
    }
  });

  it('refuses data whose size does not match the shape', () => {
    expect(() => writeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } })).toThrow(
      /"w".*needs 16 bytes, data has 12/,
    );
  });
});

describe('parseSafetensors refuses corrupt files with a reason', () => {
  const good = writeSafetensors({
    'layer.a': { dtype: 'F32', shape: [4], data: new Float32Array([1, 2, 3, 4]) },
    'layer.b': { dtype: 'F32', shape: [2], data: new Float32Array([5, 6]) },
  });

  const expectError = (bytes: Uint8Array, pattern: RegExp) => {
    let err: unknown;
    try {
      parseSafetensors(bytes, { source: 'adapter_model.safetensors' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SafetensorsError);
    expect((err as Error).message).toMatch(/^adapter_model\.safetensors: /);
    expect((err as Error).message).toMatch(pattern);
  };

  it('a file shorter than 8 bytes', () => expectError(new Uint8Array(5), /shorter than the 8-byte header length/));

  it('a truncated file (data cut short)', () =>
    expectError(good.subarray(0, good.byteLength - 4), /"layer\.[ab]".*run past the data section.*truncated/));

  it('a truncated file (header cut short)', () => expectError(good.subarray(0, 20), /runs past the end of the file/));

  it('a header length over the limit', () => {
    const bytes = handMade({}, new Uint8Array(0), { lenOverride: BigInt(MAX_HEADER_BYTES + 1) });
    expectError(bytes, /exceeds the limit of 100000000 bytes/);
  });

  it('a header length with the high 32 bits set', () => {
    const bytes = handMade({}, new Uint8Array(0), { lenOverride: (1n << 40n) + 2n });
    expectError(bytes, /exceeds the limit/);
  });

  it('a header that is not JSON', () =>
    expectError(handMade(null, new Uint8Array(0), { headerText: '{"a": dtype F32' }), /not valid JSON/));

  it('a tensor entry that is not an object', () =>
    expectError(handMade({ w: [0, 4] }, new Uint8Array(4)), /"w": header entry is not an object/));

  it('a header that does not start with {', () =>
    expectError(handMade(null, new Uint8Array(0), { headerText: '[1, 2, 3]' }), /does not start with "\{"/));

  it('offsets out of range', () =>
    expectError(handMade({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(4)), /"w".*\[0, 8\].*run past/));

  it('offsets that end before they begin', () =>
    expectError(handMade({ w: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, new Uint8Array(8)), /"w".*end before they begin/));

  it('offsets that are not integers', () =>
    expectError(handMade({ w: { dtype: 'F32', shape: [1], data_offsets: [0, '4'] } }, new Uint8Array(4)), /"w".*data_offsets must be/));

  it('a shape that does not match the byte size', () =>
    expectError(
      handMade({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)),
      /"w".*shape \[3\] of F32 needs 12 bytes but data_offsets \[0, 8\] hold 8/,
    ));

  it('a negative or fractional dimension', () =>
    expectError(handMade({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)), /"w".*shape must be/));

  it('overlapping tensors', () =>
    expectError(
      handMade(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
        },
        new Uint8Array(12),
      ),
      /"b".*overlap tensor "a"/,
    ));

  it('an unknown dtype', () =>
    expectError(handMade({ w: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), /"w".*unknown dtype "Q4"/));

  it('metadata values that are not strings', () =>
    expectError(handMade({ __metadata__: { step: 3 } }, new Uint8Array(0)), /__metadata__\["step"\] must be a string/));
});

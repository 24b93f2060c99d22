// Fuzzing the zip reader: any bytes, real archives with fields overwritten (sizes, offsets, counts,
// methods, CRCs), and deflated entries whose declared sizes lie. Each must read or throw a ZipError
// within the budget, and what it inflates is measured where it is inflated (inflate-meter.ts): never
// more than an entry's declared size, and never past the limit it was read under.

import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32, readZip, writeZip, ZipError } from '../../src/lib/peft/zip';
import { fuzzCase, noteAllocation, params } from './harness';
import { countInflated } from './inflate-meter';

/** The per-entry limit these cases read under: small, so a lie is caught at a size that is cheap to reach. */
const ENTRY_LIMIT = 256 * 1024;

async function read(cls: string, bytes: Uint8Array): Promise<void> {
  const meter = countInflated();
  try {
    const r = await fuzzCase(cls, bytes.length, () => readZip(bytes, { maxEntryBytes: ENTRY_LIMIT, maxTotalBytes: 4 * ENTRY_LIMIT }), [ZipError]);
    if (r.ok) for (const e of r.value) expect(e.data.length).toBeLessThanOrEqual(ENTRY_LIMIT);
  } finally {
    meter.stop();
  }
  noteAllocation(cls, meter.largest, bytes.length);
  // Inflating stops at the declared size (at most the limit), give or take the chunk that passed it.
  expect(meter.largest).toBeLessThanOrEqual(ENTRY_LIMIT + 64 * 1024);
}

/** A zip of one or more entries, deflated (method 8) with declared sizes and CRCs that may lie. */
function deflatedZip(entries: { name: string; data: Uint8Array; declared: number; crc: number }[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const comp = deflateRawSync(e.data);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(8, 8, true);
    lv.setUint32(14, e.crc, true);
    lv.setUint32(18, comp.length, true);
    lv.setUint32(22, e.declared, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const cd = new Uint8Array(46 + name.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(10, 8, true);
    cv.setUint32(16, e.crc, true);
    cv.setUint32(20, comp.length, true);
    cv.setUint32(24, e.declared, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    cd.set(name, 46);
    parts.push(local, comp);
    central.push(cd);
    offset += local.length + comp.length;
  }
  const cdLen = central.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdLen, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdLen + 22);
  let p = 0;
  for (const part of [...parts, ...central, end]) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

const entryData = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  // Highly compressible: a little deflate that inflates a lot.
  fc.tuple(fc.nat({ max: 255 }), fc.integer({ min: 1, max: 2 * 1024 * 1024 })).map(([v, n]) => new Uint8Array(n).fill(v)),
);

describe('zip under fuzzing: entries or a ZipError, within the budget, inflating no more than declared and allowed', () => {
  it('any bytes, and any bytes behind a zip signature', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.uint8Array({ maxLength: 4000, size: 'large' }), async (sig, b) => {
        const bytes = sig ? new Uint8Array([0x50, 0x4b, 0x03, 0x04, ...b, 0x50, 0x4b, 0x05, 0x06, ...new Uint8Array(18)]) : b;
        await read('zip bytes', bytes);
      }),
      params(600),
    );
  });

  it('real archives with a field overwritten', async () => {
    const entries = fc.array(fc.record({ name: fc.string({ minLength: 1, maxLength: 12 }), data: fc.uint8Array({ maxLength: 100 }) }), { minLength: 1, maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(entries, fc.array(fc.tuple(fc.nat(), fc.constantFrom(1, 2, 4), fc.constantFrom(0, 1, 8, 0xff, 0xffff, 0xffffffff, 0x7fffffff)), { minLength: 1, maxLength: 4 }), async (es, writes) => {
        const zip = writeZip(es.map((e) => ({ name: e.name, data: e.data })), new Date(2020, 0, 1)).slice();
        const v = new DataView(zip.buffer);
        for (const [at, width, value] of writes) {
          const p = at % Math.max(1, zip.length - width);
          if (width === 1) v.setUint8(p, value & 0xff);
          else if (width === 2) v.setUint16(p, value & 0xffff, true);
          else v.setUint32(p, value >>> 0, true);
        }
        await read('zip overwritten', zip);
      }),
      params(800),
    );
  });

  it('deflated entries whose declared sizes and CRCs lie (zip bombs among them)', async () => {
    const lie = fc.record({
      name: fc.string({ minLength: 1, maxLength: 8 }),
      data: entryData,
      declared: fc.oneof(fc.nat({ max: 300_000 }), fc.constantFrom(0, 1, 2 ** 30, 2 ** 32 - 2)),
      crcOk: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(lie, { minLength: 1, maxLength: 3 }), async (es) => {
        const zip = deflatedZip(es.map((e) => ({ name: e.name, data: e.data, declared: e.declared, crc: e.crcOk ? crc32(e.data) : 0x12345678 })));
        await read('zip deflated', zip);
      }),
      params(200),
    );
  });
});

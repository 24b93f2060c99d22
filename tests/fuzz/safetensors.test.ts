// Fuzzing the safetensors reader: any bytes, headers built from hostile parts (header lengths near
// and past the limits, unknown dtypes, shapes that overflow or do not match, overlapping or
// out-of-range offsets, deep nesting, long names) and real files with bytes flipped. Each must parse
// or throw a SafetensorsError within the budget; a parsed file's tensors must convert to float32
// without allocating more than the file can justify.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSafetensors, SafetensorsError, tensorToFloat32, writeSafetensors, type SafetensorsFile } from '../../src/lib/model/safetensors';
import { fuzzCase, noteAllocation, params } from './harness';

const FLOATS = new Set(['F32', 'F16', 'BF16', 'F64']);

/** Parses, then reads every float tensor as float32, noting what that allocates. */
async function parseAndRead(cls: string, bytes: Uint8Array): Promise<void> {
  const r = await fuzzCase(cls, bytes.length, () => {
    const st = parseSafetensors(bytes, { source: 'fuzz.safetensors' });
    let largest = 0;
    for (const t of st.tensors) if (FLOATS.has(t.dtype)) largest = Math.max(largest, tensorToFloat32(st, t.name).byteLength);
    return { st, largest };
  }, [SafetensorsError]);
  if (!r.ok) return;
  const { st, largest }: { st: SafetensorsFile; largest: number } = r.value;
  noteAllocation(cls, largest, bytes.length);
  // A float32 copy is at most twice its F16/BF16 bytes: never more than the file justifies.
  expect(largest).toBeLessThanOrEqual(2 * bytes.length);
  for (const t of st.tensors) expect(t.dataOffsets[1]).toBeLessThanOrEqual(bytes.length - st.dataStart);
}

function assemble(header: string, headerLength: bigint | null, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const dtype = fc.oneof(fc.constantFrom('F32', 'F16', 'BF16', 'F64', 'I32', 'I64', 'U8', 'BOOL', 'F8_E4M3'), fc.jsonValue({ maxDepth: 1 }));
const dim = fc.oneof(fc.nat({ max: 8 }), fc.constantFrom(0, 2 ** 31, 2 ** 40, 2 ** 53, -1, 1.5, Number.MAX_SAFE_INTEGER), fc.jsonValue({ maxDepth: 1 }));
const offset = fc.oneof(fc.nat({ max: 64 }), fc.constantFrom(-1, 2 ** 32, 2 ** 53, 0.5), fc.jsonValue({ maxDepth: 1 }));
const entry = fc.record(
  { dtype, shape: fc.oneof(fc.array(dim, { maxLength: 4 }), fc.jsonValue({ maxDepth: 2 })), data_offsets: fc.oneof(fc.tuple(offset, offset), fc.array(offset, { maxLength: 3 })) },
  { requiredKeys: [] },
);
const name = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__metadata__', '<b>x</b>', ''), fc.string({ maxLength: 3 }).map((s) => s.repeat(500)));
const header = fc.oneof(
  fc.dictionary(name, fc.oneof(entry, fc.jsonValue({ maxDepth: 3 }))).map((h) => JSON.stringify(h)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.integer({ min: 1000, max: 200_000 }).map((d) => `{"a":{"dtype":"F32","shape":${'['.repeat(d)}1${']'.repeat(d)},"data_offsets":[0,4]}}`),
  fc.string({ maxLength: 50 }),
);
/** The header length as written: true, a little off, or absurd. */
const lengthField = fc.oneof(
  fc.constant(null),
  fc.integer({ min: -4, max: 4 }).map((d) => ({ delta: d })),
  fc.constantFrom(0n, 1n, 100_000_000n, 100_000_001n, 2n ** 32n, 2n ** 63n, 2n ** 64n - 1n),
);

describe('safetensors under fuzzing: a parsed file or a SafetensorsError, within the budget and bounded allocations', () => {
  it('any bytes', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 4000, size: 'large' }), async (b) => parseAndRead('safetensors bytes', b)), params(600));
  });

  it('headers built from hostile parts', async () => {
    await fc.assert(
      fc.asyncProperty(header, lengthField, fc.uint8Array({ maxLength: 256 }), async (h, len, data) => {
        const bytes = len === null || typeof len === 'bigint' ? assemble(h, len, data) : assemble(h, BigInt(Math.max(0, new TextEncoder().encode(h).length + len.delta)), data);
        await parseAndRead('safetensors headers', bytes);
      }),
      params(800),
    );
  });

  it('real files with bytes flipped', async () => {
    const tensors = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 10 }).filter((k) => k !== '__metadata__'),
      fc.record({ dtype: fc.constantFrom('F32', 'F16', 'BF16', 'F64', 'I32'), shape: fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 3 }) }),
      { maxKeys: 5 },
    );
    await fc.assert(
      fc.asyncProperty(tensors, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 6 }), async (spec, flips) => {
        const w = Object.fromEntries(
          Object.entries(spec).map(([k, t]) => [k, { dtype: t.dtype as 'F32', shape: t.shape, data: new Uint8Array(t.shape.reduce((a, b) => a * b, 1) * ({ F32: 4, F16: 2, BF16: 2, F64: 8, I32: 4 } as Record<string, number>)[t.dtype]) }]),
        );
        const bytes = writeSafetensors(w, { format: 'pt' }).slice();
        for (const [at, v] of flips) if (bytes.length) bytes[at % bytes.length] = v;
        await parseAndRead('safetensors flipped', bytes);
      }),
      params(600),
    );
  });

  it('files of about a megabyte', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 60_000 }), fc.constantFrom('F32', 'F16', 'BF16'), async (tensors, dt) => {
        // Many small tensors (a large header) or one large one.
        const n = Math.min(tensors, 20_000);
        const per = Math.max(1, Math.floor(250_000 / n));
        const w = Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, { dtype: dt as 'F32', shape: [per], data: new Uint8Array(per * (dt === 'F32' ? 4 : 2)) }]));
        await parseAndRead('safetensors 1 MB', writeSafetensors(w));
      }),
      params(12),
    );
  });
});

import { describe, expect, it } from 'vitest';
import { crc32, looksLikeZip, readZip, writeZip, ZipError } from '../../src/lib/peft/zip';

const enc = (s: string) => new TextEncoder().encode(s);

// Written by Python's zipfile (ZIP_DEFLATED, one entry ZIP_STORED, a directory entry):
//   my-adapter/, my-adapter/notes.txt ('hello hello hello hello hello zip\n' * 3), my-adapter/plain.bin (bytes 0..6)
const PYTHON_ZIP =
  'UEsDBBQAAAAIADtofV0AAAAAAgAAAAAAAAALAAAAbXktYWRhcHRlci8DAFBLAwQUAAAACAA7aH1dilZaGBMAAABmAAAAFAAAAG15LWFkYXB0ZXIvbm90ZXMudHh0y0jNyclXyMBBVmUWcOGSI0UFAFBLAwQUAAAAAAA7aH1d+QlYrQcAAAAHAAAAFAAAAG15LWFkYXB0ZXIvcGxhaW4uYmluAAECAwQFBlBLAQIUAxQAAAAIADtofV0AAAAAAgAAAAAAAAALAAAAAAAAAAAAEAD9QQAAAABteS1hZGFwdGVyL1BLAQIUAxQAAAAIADtofV2KVloYEwAAAGYAAAAUAAAAAAAAAAAAAACAASsAAABteS1hZGFwdGVyL25vdGVzLnR4dFBLAQIUAxQAAAAAADtofV35CVitBwAAAAcAAAAUAAAAAAAAAAAAAACAAXAAAABteS1hZGFwdGVyL3BsYWluLmJpblBLBQYAAAAAAwADAL0AAACpAAAAAAA=';

describe('crc32', () => {
  it('gives the standard check values', () => {
    expect(crc32(enc('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(enc('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });
});

describe('zip', () => {
  it('round-trips entries, names in UTF-8, data byte for byte', async () => {
    const data = new Uint8Array(1000).map((_, i) => (i * 31) & 0xff);
    const zip = writeZip([
      { name: 'adapter_config.json', data: enc('{"r": 4}') },
      { name: 'dossier/adapter_model.safetensors', data },
      { name: 'café.txt', data: new Uint8Array(0) },
    ]);
    expect(looksLikeZip(zip)).toBe(true);
    const back = await readZip(zip);
    expect(back.map((e) => e.name)).toEqual(['adapter_config.json', 'dossier/adapter_model.safetensors', 'café.txt']);
    expect(new TextDecoder().decode(back[0].data)).toBe('{"r": 4}');
    expect(Array.from(back[1].data)).toEqual(Array.from(data));
    expect(back[2].data.length).toBe(0);
  });

  it('reads an archive written by another tool, deflated entries included', async () => {
    const bytes = Uint8Array.from(Buffer.from(PYTHON_ZIP, 'base64'));
    const entries = await readZip(bytes);
    expect(entries.map((e) => e.name)).toEqual(['my-adapter/notes.txt', 'my-adapter/plain.bin']);
    expect(new TextDecoder().decode(entries[0].data)).toBe('hello hello hello hello hello zip\n'.repeat(3));
    expect(Array.from(entries[1].data)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('refuses a truncated archive', async () => {
    const zip = writeZip([{ name: 'a.txt', data: enc('hello') }]);
    await expect(readZip(zip.subarray(0, zip.length - 10))).rejects.toThrow(/no end-of-central-directory record/);
  });

  it('refuses data whose CRC does not match', async () => {
    const zip = writeZip([{ name: 'a.txt', data: enc('hello') }]);
    zip[30 + 'a.txt'.length] ^= 0xff; // first data byte
    await expect(readZip(zip)).rejects.toThrow(/a\.txt: CRC-32 mismatch/);
  });

  it('refuses offsets that point outside the archive', async () => {
    const zip = writeZip([{ name: 'a.txt', data: enc('hello') }]);
    const v = new DataView(zip.buffer);
    const cd = v.getUint32(zip.length - 22 + 16, true);
    v.setUint32(cd + 42, 1 << 20, true); // local header offset far past the end
    await expect(readZip(zip)).rejects.toThrow(ZipError);
    await expect(readZip(zip)).rejects.toThrow(/a\.txt: its local header/);
    const zip2 = writeZip([{ name: 'a.txt', data: enc('hello') }]);
    new DataView(zip2.buffer).setUint32(zip2.length - 22 + 16, 1 << 20, true); // central directory offset
    await expect(readZip(zip2)).rejects.toThrow(/central directory .* lies outside the archive/);
  });

  it('refuses bytes that are not a zip', async () => {
    await expect(readZip(enc('just some text, not an archive at all'))).rejects.toThrow(/not a ZIP archive/);
    expect(looksLikeZip(enc('{"a":1}'))).toBe(false);
  });
});

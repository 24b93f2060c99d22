// A minimal ZIP writer (store only) and a validating reader (stored or deflated entries), enough to
// hand an adapter's two files over as one download and to read them back from whatever zip tool the
// user re-packed them with. Format: PKWARE APPNOTE 6.3 (local headers, central directory, end record);
// no ZIP64, no encryption, no multi-disk archives — each refused with a message saying so.

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
/** Bit 11 of the flags: file names are UTF-8. */
const FLAG_UTF8 = 0x0800;

export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

let crcTable: Uint32Array | null = null;

/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as ZIP, PNG and gzip use it. */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

/** DOS date and time fields for a Date (local time, 2-second resolution, years 1980–2107). */
function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.min(Math.max(d.getFullYear(), 1980), 2107);
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

/**
 * Writes the fields a local header (at its offset 4) and a central directory header (at its offset 6)
 * share, for a stored entry: version needed, flags, method, time, date, CRC-32, both sizes, name
 * length and extra field length (26 bytes).
 */
function writeEntryFields(v: DataView, p: number, f: { time: number; date: number; crc: number; size: number; nameLength: number }): void {
  v.setUint16(p, 20, true); // version needed: 2.0
  v.setUint16(p + 2, FLAG_UTF8, true);
  v.setUint16(p + 4, 0, true); // stored
  v.setUint16(p + 6, f.time, true);
  v.setUint16(p + 8, f.date, true);
  v.setUint32(p + 10, f.crc, true);
  v.setUint32(p + 14, f.size, true); // compressed size
  v.setUint32(p + 18, f.size, true);
  v.setUint16(p + 22, f.nameLength, true);
  v.setUint16(p + 24, 0, true); // extra field length
}

/** Writes entries into a ZIP archive without compression (safetensors data barely compresses). */
export function writeZip(entries: ZipEntry[], modified: Date = new Date()): Uint8Array {
  const enc = new TextEncoder();
  const { time, date } = dosDateTime(modified);
  const fields = entries.map((e) => {
    const name = enc.encode(e.name);
    return { name, time, date, crc: crc32(e.data), size: e.data.length, nameLength: name.length };
  });
  let size = 22;
  fields.forEach((f) => (size += 30 + f.nameLength + f.size + 46 + f.nameLength));
  if (size > 0xffffffff || entries.length > 0xffff) throw new ZipError('archive too large for a ZIP without ZIP64');
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let p = 0;
  const offsets: number[] = [];
  entries.forEach((e, i) => {
    const f = fields[i];
    offsets.push(p);
    v.setUint32(p, SIG_LOCAL, true);
    writeEntryFields(v, p + 4, f);
    out.set(f.name, p + 30);
    out.set(e.data, p + 30 + f.nameLength);
    p += 30 + f.nameLength + f.size;
  });
  const cdStart = p;
  fields.forEach((f, i) => {
    v.setUint32(p, SIG_CENTRAL, true);
    v.setUint16(p + 4, 20, true); // version made by
    writeEntryFields(v, p + 6, f);
    // comment length, disk number, internal attributes: 0
    v.setUint32(p + 38, 0, true); // external attributes
    v.setUint32(p + 42, offsets[i], true);
    out.set(f.name, p + 46);
    p += 46 + f.nameLength;
  });
  v.setUint32(p, SIG_END, true);
  v.setUint16(p + 8, entries.length, true);
  v.setUint16(p + 10, entries.length, true);
  v.setUint32(p + 12, p - cdStart, true);
  v.setUint32(p + 16, cdStart, true);
  return out;
}

/** True when the bytes start like a ZIP archive (a local header or an empty archive's end record). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const sig = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  return sig === SIG_LOCAL || sig === SIG_END;
}

/** Largest entry readZip inflates when the caller names no limit of its own. */
export const MAX_ZIP_ENTRY_BYTES = 256 * 1024 * 1024;
/** Most bytes readZip inflates over all entries when the caller names no limit of its own. */
export const MAX_ZIP_TOTAL_BYTES = 512 * 1024 * 1024;

const fmt = (n: number) => n.toLocaleString('en-US');

/** A limit on what one entry may inflate to, and why it is that (said in the error when passed). */
export interface EntryLimit {
  bytes: number;
  /** e.g. "the largest entry this reader accepts"; completes "over the limit of N bytes (…)". */
  why: string;
}

/** One file of an archive, as its central directory describes it; read it with readZipEntry. */
export interface ZipEntryInfo {
  name: string;
  /** Size once decompressed, as the archive declares it. */
  size: number;
  compressedSize: number;
  /** 0: stored, 8: deflate. */
  method: number;
  crc: number;
  /** Offset of the entry's data in the archive. */
  dataStart: number;
}

/**
 * Inflates `data` into exactly `expected` bytes. It stops as soon as the output would pass `expected`
 * (which the caller has checked against its limit): an archive that lies about a size, such as a
 * zip bomb declaring a small file, costs at most `expected` bytes and one chunk, never its full size.
 */
async function inflateRaw(data: Uint8Array, expected: number, name: string): Promise<Uint8Array> {
  if (typeof DecompressionStream === 'undefined') {
    throw new ZipError(`${name} is compressed (deflate) and this browser cannot decompress it; re-zip without compression`);
  }
  const out = new Uint8Array(expected);
  const reader = new Blob([data as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  let n = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (n + value.length > expected) {
        throw new ZipError(`${name}: decompresses to more than the ${fmt(expected)} bytes the archive declares for it; the archive lies about its sizes (a zip bomb?)`);
      }
      out.set(value, n);
      n += value.length;
    }
  } catch (e) {
    void reader.cancel().catch(() => {});
    if (e instanceof ZipError) throw e;
    throw new ZipError(`${name}: compressed data is corrupt (${(e as Error).message})`);
  }
  if (n !== expected) throw new ZipError(`${name}: decompressed to ${fmt(n)} bytes, the archive says ${fmt(expected)}`);
  return out;
}

/**
 * Lists the files in a ZIP archive without decompressing any: every offset and size is checked
 * against the archive's length before it is used. Directories are skipped.
 */
export function listZip(bytes: Uint8Array, opts: { maxEntries?: number } = {}): ZipEntryInfo[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  // The end record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  let end = -1;
  for (let p = n - 22; p >= Math.max(0, n - 22 - 0xffff); p--) {
    if (v.getUint32(p, true) === SIG_END) {
      end = p;
      break;
    }
  }
  if (end < 0) throw new ZipError('not a ZIP archive (no end-of-central-directory record): truncated or not a zip');
  const disk = v.getUint16(end + 4, true);
  const count = v.getUint16(end + 10, true);
  const cdSize = v.getUint32(end + 12, true);
  const cdStart = v.getUint32(end + 16, true);
  if (disk !== 0 || v.getUint16(end + 6, true) !== 0) throw new ZipError('multi-part ZIP archives are not supported');
  if (count === 0xffff || cdStart === 0xffffffff || cdSize === 0xffffffff) throw new ZipError('ZIP64 archives are not supported');
  if (cdStart + cdSize > end) throw new ZipError(`the central directory (offset ${cdStart}, ${cdSize} bytes) lies outside the archive`);
  const maxEntries = opts.maxEntries ?? 1000;
  if (count > maxEntries) throw new ZipError(`the archive holds ${count} entries, more than the ${maxEntries} accepted`);

  const dec = new TextDecoder();
  const out: ZipEntryInfo[] = [];
  let p = cdStart;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdStart + cdSize || v.getUint32(p, true) !== SIG_CENTRAL) throw new ZipError(`central directory entry ${i + 1} is corrupt`);
    const flags = v.getUint16(p + 8, true);
    const method = v.getUint16(p + 10, true);
    const crc = v.getUint32(p + 16, true);
    const compSize = v.getUint32(p + 20, true);
    const size = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    const local = v.getUint32(p + 42, true);
    if (p + 46 + nameLen > n) throw new ZipError(`central directory entry ${i + 1}: its name runs past the archive`);
    const name = dec.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/')) continue;
    if (flags & 1) throw new ZipError(`${name} is encrypted; encrypted archives are not supported`);
    if (compSize === 0xffffffff || size === 0xffffffff || local === 0xffffffff) throw new ZipError(`${name}: ZIP64 entries are not supported`);
    if (local + 30 > n || v.getUint32(local, true) !== SIG_LOCAL) throw new ZipError(`${name}: its local header (offset ${local}) is missing or corrupt`);
    const dataStart = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    if (dataStart + compSize > n) throw new ZipError(`${name}: its data (${compSize} bytes at offset ${dataStart}) runs past the end of the archive`);
    if (method !== 0 && method !== 8) throw new ZipError(`${name}: compression method ${method} is not supported (only stored and deflate)`);
    if (method === 0 && compSize !== size) throw new ZipError(`${name}: stored entry with different sizes (${compSize} vs ${size})`);
    out.push({ name, size, compressedSize: compSize, method, crc, dataStart });
  }
  return out;
}

/**
 * One file's bytes (a view into the archive when stored, else inflated), its CRC-32 verified. An entry
 * whose declared size is over `limit` is refused before a byte is inflated, and inflating stops at
 * the declared size (inflateRaw), so no entry costs more than `limit` bytes of memory.
 */
export async function readZipEntry(bytes: Uint8Array, entry: ZipEntryInfo, limit: EntryLimit): Promise<Uint8Array> {
  const { name, size } = entry;
  if (size > limit.bytes) {
    throw new ZipError(`${name} would decompress to ${fmt(size)} bytes, over the limit of ${fmt(limit.bytes)} bytes (${limit.why})`);
  }
  const raw = bytes.subarray(entry.dataStart, entry.dataStart + entry.compressedSize);
  const data = entry.method === 0 ? raw : await inflateRaw(raw, size, name);
  if (crc32(data) !== entry.crc) throw new ZipError(`${name}: CRC-32 mismatch, the archive is corrupt`);
  return data;
}

/**
 * Reads every file in a ZIP archive (listZip, then readZipEntry for each). Each entry may inflate to
 * at most `maxEntryBytes`, all of them together to at most `maxTotalBytes`.
 */
export async function readZip(
  bytes: Uint8Array,
  opts: { maxEntries?: number; maxEntryBytes?: number; maxTotalBytes?: number } = {},
): Promise<ZipEntry[]> {
  const entries = listZip(bytes, opts);
  const perEntry = opts.maxEntryBytes ?? MAX_ZIP_ENTRY_BYTES;
  let left = opts.maxTotalBytes ?? MAX_ZIP_TOTAL_BYTES;
  const out: ZipEntry[] = [];
  for (const e of entries) {
    const limit: EntryLimit =
      left < perEntry
        ? { bytes: left, why: `what is left of the ${fmt(opts.maxTotalBytes ?? MAX_ZIP_TOTAL_BYTES)} bytes accepted for the whole archive` }
        : { bytes: perEntry, why: 'the largest file accepted in an archive' };
    const data = await readZipEntry(bytes, e, limit);
    left -= data.length;
    out.push({ name: e.name, data });
  }
  return out;
}

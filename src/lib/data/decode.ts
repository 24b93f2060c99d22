// Bytes → text for dataset files: size limit, UTF-8 only (validated, with the position of the first
// bad byte), a UTF-8 byte-order mark removed, CRLF and lone CR line endings turned into LF.

import { formatCount } from './problems';

/** Largest dataset file we read, in bytes. Bigger files are refused before a byte is read. */
export const MAX_DATASET_BYTES = 50 * 1024 * 1024;

/**
 * Longest line (or CSV record, or JSON array item) we accept, in characters. At ~4 characters per
 * token this is ~50k tokens, far beyond any context a model here trains on; a longer line is almost
 * always a file in the wrong format (minified JSON, a binary blob).
 */
export const MAX_LINE_CHARS = 200_000;

export type DecodeResult =
  | { ok: true; text: string; hadBom: boolean; hadCrlf: boolean }
  | { ok: false; message: string; line: number };

/** The message used when a file is over MAX_DATASET_BYTES (or a given limit). */
export function tooLargeMessage(bytes: number, limit = MAX_DATASET_BYTES): string {
  return `file is ${formatMegabytes(bytes)}, over the limit of ${formatMegabytes(limit)} (${formatCount(limit)} bytes)`;
}

function formatMegabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

/**
 * Offset of the first byte that is not part of a valid UTF-8 sequence (overlong forms, surrogates
 * and code points past U+10FFFF count as invalid, as the WHATWG decoder says), or -1.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // overlong
      if (b === 0xed) hi = 0x9f; // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90; // overlong
      if (b === 0xf4) hi = 0x8f; // > U+10FFFF
    } else return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return i;
      const c = bytes[i + k];
      const cl = k === 1 ? lo : 0x80;
      const ch = k === 1 ? hi : 0xbf;
      if (c < cl || c > ch) return i;
    }
    i += need + 1;
  }
  return -1;
}

function lineAt(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/**
 * Decodes a dataset file. Refuses, with the reason and where: files over `maxBytes`, UTF-16/UTF-32
 * text (by BOM), binary files (NUL bytes), and bytes that are not UTF-8.
 */
export function decodeDatasetBytes(bytes: Uint8Array, maxBytes = MAX_DATASET_BYTES): DecodeResult {
  if (bytes.byteLength > maxBytes) return { ok: false, message: tooLargeMessage(bytes.byteLength, maxBytes), line: 0 };
  if (
    (bytes[0] === 0xff && bytes[1] === 0xfe) ||
    (bytes[0] === 0xfe && bytes[1] === 0xff) ||
    (bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0xfe && bytes[3] === 0xff)
  ) {
    return { ok: false, message: 'not UTF-8 text: the file is UTF-16 or UTF-32 (by its byte-order mark); save it as UTF-8', line: 0 };
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    const line = lineAt(bytes, nul);
    return { ok: false, message: `not UTF-8 text: a NUL byte at byte ${formatCount(nul)} (a binary file?)`, line };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const line = at >= 0 ? lineAt(bytes, at) : 0;
    const byte = at >= 0 ? ` (byte 0x${bytes[at].toString(16).padStart(2, '0')} at offset ${formatCount(at)})` : '';
    return { ok: false, message: `not UTF-8 text${byte}; save the file as UTF-8`, line };
  }
  const hadBom = text.charCodeAt(0) === 0xfeff;
  if (hadBom) text = text.slice(1);
  const hadCrlf = text.includes('\r');
  if (hadCrlf) text = text.replace(/\r\n?/g, '\n');
  return { ok: true, text, hadBom, hadCrlf };
}

/**
 * Gives the event loop a turn so the page can repaint and handle input while a large file is parsed.
 * A MessageChannel message is used where available because nested setTimeout(0) calls are clamped
 * to 4 ms in browsers.
 */
export function yieldToEventLoop(): Promise<void> {
  if (typeof MessageChannel !== 'undefined') {
    return new Promise((resolve) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        ch.port1.close();
        resolve();
      };
      ch.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

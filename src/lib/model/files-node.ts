// A model folder on disk as a FileReader (files.ts), for Node: the command line and tests. Kept apart
// from files.ts so the page never imports node:fs.

import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileReader } from './files.ts';

/** Bytes per read: progress is reported after each. */
const CHUNK = 16 * 1024 * 1024;

/** Files of `dir`; a name that is missing (or is not a file) reads as null. */
export function folderReader(dir: string): FileReader {
  return async (name, onBytes) => {
    const path = join(dir, name);
    const info = await stat(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return null;
      throw e;
    });
    if (!info || !info.isFile()) return null;
    const out = new Uint8Array(info.size);
    const file = await open(path, 'r');
    try {
      let at = 0;
      while (at < out.byteLength) {
        const { bytesRead } = await file.read(out, at, Math.min(CHUNK, out.byteLength - at), at);
        if (bytesRead === 0) throw new Error(`${path}: the file ended after ${at} of ${out.byteLength} bytes`);
        at += bytesRead;
        onBytes?.(at, out.byteLength);
      }
      if (out.byteLength === 0) onBytes?.(0, 0);
    } finally {
      await file.close();
    }
    return out;
  };
}

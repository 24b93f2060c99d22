// Models made in this browser (store/models.ts keeps each as its Hugging Face folder in IndexedDB),
// read the way the other models are: transformers.js loads their tokenizer and config.json from a
// virtual local folder, BROWSER_MODELS_PATH/<id>/<file>, which storedModelFetch answers from the
// store (every other request goes to the real fetch); the engine reads the weights through
// storedModelReader, the same FileReader contract as a URL or a folder on disk (model/files.ts).

import type { FileReader } from '../model/files.ts';
import type { FolderFile } from '../pretrain/folder.ts';

/** The path transformers.js is told the browser's models live under (no server ever sees it). */
export const BROWSER_MODELS_PATH = '/browser-models/';

/** A stored model's files by id, or null when the store has no model with that id. */
export type StoredFolder = (id: string) => Promise<FolderFile[] | null>;

const bytesOf = (f: FolderFile): Uint8Array => (typeof f.data === 'string' ? new TextEncoder().encode(f.data) : f.data);

/**
 * The stored-model path a request asks for, or null: a path (what transformers.js fetches for a
 * local model) or a URL on this page's own origin, under BROWSER_MODELS_PATH.
 */
function storedPath(input: string | URL | Request): string | null {
  const raw = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  let path = raw;
  if (!raw.startsWith('/')) {
    if (typeof location === 'undefined') return null;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return null;
    }
    if (url.origin !== location.origin) return null;
    path = url.pathname;
  }
  path = path.split(/[?#]/)[0];
  return path.startsWith(BROWSER_MODELS_PATH) ? decodeURIComponent(path.slice(BROWSER_MODELS_PATH.length)) : null;
}

/**
 * A fetch that answers BROWSER_MODELS_PATH/<id>/<file> from the stored folder — 200 with the file's
 * bytes, 404 (as a server would) when the model or the file is missing, so transformers.js says which
 * file it could not find — and passes every other request to `fallback`. Only paths count: a real
 * server's URL elsewhere that happens to contain the prefix is not intercepted.
 */
export function storedModelFetch(stored: StoredFolder, fallback: typeof fetch): typeof fetch {
  return async (input, init) => {
    const path = storedPath(input as string | URL | Request);
    if (path === null) return fallback(input, init);
    const [id, ...rest] = path.split('/');
    const name = rest.join('/');
    const files = await stored(id);
    const file = files?.find((f) => f.name === name);
    if (!file) {
      const why = files ? `the model made in this browser has no ${name}` : `no model made in this browser has the id ${id} (deleted?)`;
      return new Response(why, { status: 404, statusText: 'Not Found' });
    }
    const bytes = bytesOf(file);
    return new Response(bytes as BodyInit, {
      status: 200,
      headers: { 'content-type': name.endsWith('.json') ? 'application/json' : 'application/octet-stream', 'content-length': String(bytes.byteLength) },
    });
  };
}

/** The engine's FileReader over a stored folder (null for a file the folder lacks, as for a URL's 404). */
export function storedModelReader(files: FolderFile[]): FileReader {
  return async (name, onBytes) => {
    const file = files.find((f) => f.name === name);
    if (!file) return null;
    const bytes = bytesOf(file);
    onBytes?.(bytes.byteLength, bytes.byteLength);
    return bytes;
  };
}

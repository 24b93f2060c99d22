// A model folder in the Hugging Face layout → the engine's ModelFiles: config.json,
// generation_config.json when there is one, and the weights — model.safetensors, or every shard that
// model.safetensors.index.json lists. The folder is read through a FileReader, so the same resolution
// serves a URL (fetchReader: the app's models/ or a hub's resolve/main/) and a folder on disk in Node
// (files-node.ts).

import type { ModelFiles } from './model.ts';

/** Bytes read of one file so far, and its size when known (0 when not). */
export type BytesRead = (loaded: number, total: number) => void;

/** Reads one file of the folder by name; null when the folder has no such file. */
export type FileReader = (name: string, onBytes?: BytesRead) => Promise<Uint8Array | null>;

/** Weights read so far: `loaded` counts every weight file before this one, `total` this one's size too. */
export interface WeightsProgress {
  file: string;
  loaded: number;
  total: number;
}

export const CONFIG_FILE = 'config.json';
export const GENERATION_CONFIG_FILE = 'generation_config.json';
export const WEIGHTS_FILE = 'model.safetensors';
export const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';

/** A folder that is not a model the engine can load, with what is missing or wrong. */
export class ModelFilesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFilesError';
  }
}

const utf8 = new TextDecoder();

/** The shard file names of a safetensors index, in the order they first appear. */
export function shardNames(indexJson: string, where = WEIGHTS_INDEX_FILE): string[] {
  let index: unknown;
  try {
    index = JSON.parse(indexJson);
  } catch (e) {
    throw new ModelFilesError(`${where} is not valid JSON: ${(e as Error).message}`);
  }
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (!map || typeof map !== 'object' || Array.isArray(map)) throw new ModelFilesError(`${where} has no "weight_map" object`);
  const names = [...new Set(Object.values(map as Record<string, unknown>))];
  const bad = names.find((n) => typeof n !== 'string' || n === '' || n.includes('/') || n.includes('\\') || n.startsWith('.'));
  if (bad !== undefined) throw new ModelFilesError(`${where} names a shard ${JSON.stringify(bad)} that is not a file of this folder`);
  if (names.length === 0) throw new ModelFilesError(`${where} lists no shard`);
  return names as string[];
}

/**
 * Resolves a model folder through `read`. `where` names the folder in errors (a path or URL).
 * Throws ModelFilesError naming what is missing: config.json, or the weights (neither
 * model.safetensors nor an index), or a shard the index lists.
 */
export async function readModelFiles(read: FileReader, where: string, onProgress?: (p: WeightsProgress) => void): Promise<ModelFiles> {
  const configBytes = await read(CONFIG_FILE);
  if (!configBytes) throw new ModelFilesError(`${where} is not a model folder: it has no ${CONFIG_FILE}`);
  const generationBytes = await read(GENERATION_CONFIG_FILE);

  let before = 0;
  const readWeights = (name: string) =>
    read(name, (loaded, total) => onProgress?.({ file: name, loaded: before + loaded, total: before + Math.max(total, loaded) }));

  const weights: Uint8Array[] = [];
  const single = await readWeights(WEIGHTS_FILE);
  if (single) {
    weights.push(single);
  } else {
    const index = await read(WEIGHTS_INDEX_FILE);
    if (!index) {
      throw new ModelFilesError(
        `${where} has no ${WEIGHTS_FILE} and no ${WEIGHTS_INDEX_FILE}: the engine reads safetensors weights (convert PyTorch .bin weights first)`,
      );
    }
    for (const name of shardNames(utf8.decode(index), `${where}: ${WEIGHTS_INDEX_FILE}`)) {
      const shard = await readWeights(name);
      if (!shard) throw new ModelFilesError(`${where}: the shard ${name} listed in ${WEIGHTS_INDEX_FILE} is missing`);
      before += shard.byteLength;
      weights.push(shard);
    }
  }
  return {
    config: utf8.decode(configBytes),
    generationConfig: generationBytes ? utf8.decode(generationBytes) : undefined,
    weights,
  };
}

/** Reads a response body, reporting bytes as they come. */
async function readBody(response: Response, onBytes?: BytesRead): Promise<Uint8Array> {
  const total = Number(response.headers.get('Content-Length') ?? 0);
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    onBytes?.(bytes.byteLength, total);
    return bytes;
  }
  const chunks: Uint8Array[] = [];
  let n = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    n += value.byteLength;
    onBytes?.(n, total);
  }
  if (total && n !== total) throw new Error(`${response.url}: got ${n} of ${total} bytes`);
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Where fetchReader keeps the files it downloaded whole: the part of the Cache API it uses. */
export type FilesCache = Pick<Cache, 'match' | 'put'>;

/** The Cache Storage bucket that keeps downloaded model files (hub weights) for the next visit. */
export const MODEL_FILES_CACHE = 'lora-playground-model-files';

/** The browser's model-files cache, or null where there is no Cache API (Node) or it cannot open (private mode, policy). */
export async function openFilesCache(): Promise<FilesCache | null> {
  if (typeof caches === 'undefined') return null;
  return caches.open(MODEL_FILES_CACHE).catch(() => null);
}

/** How often a download that failed part-way (network, cut short) is tried again before its error is said. */
const ATTEMPTS = 2;

/**
 * Files under a folder URL (ending in '/'): HTTP 404 is "no such file", any other failure an error.
 * Works wherever fetch does (page, worker, Node). With a `cache`, each answer is kept there once it
 * has arrived whole — a file, or the hub's 404 for one — and read from there first, so a second visit
 * needs no network; a download that fails part-way is never kept, and is tried once more before its
 * error, which names the file, is thrown. A cache that cannot store (quota) leaves the read as it is.
 */
export function fetchReader(folderUrl: string, signal?: AbortSignal, cache: FilesCache | null = null): FileReader {
  const base = folderUrl.endsWith('/') ? folderUrl : folderUrl + '/';
  return async (name, onBytes) => {
    const url = base + name;
    const kept = await cache?.match(url).catch(() => undefined);
    if (kept) return kept.status === 404 ? null : readBody(kept, onBytes);
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await fetch(url, { signal });
        if (response.status === 404) {
          await response.body?.cancel();
          await cache?.put(url, new Response(null, { status: 404 })).catch(() => {});
          return null;
        }
        if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
        const bytes = await readBody(response, onBytes);
        const headers = { 'Content-Length': String(bytes.byteLength), 'Content-Type': 'application/octet-stream' };
        await cache?.put(url, new Response(bytes as Uint8Array<ArrayBuffer>, { headers })).catch(() => {});
        return bytes;
      } catch (e) {
        if (signal?.aborted) throw e;
        if (attempt >= ATTEMPTS) {
          throw new Error(`Downloading ${url} failed ${ATTEMPTS} times (${(e as Error).message}); nothing of it was kept: load again to retry.`, { cause: e });
        }
      }
    }
  };
}

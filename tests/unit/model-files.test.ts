// Resolving a model folder's files (src/lib/model/files.ts) through any reader: one safetensors file,
// the shards of an index, and a named error for each thing that is missing. No GPU.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchReader, type FileReader, type FilesCache, ModelFilesError, readModelFiles, shardNames, type WeightsProgress } from '../../src/lib/model/files.ts';
import { folderReader } from '../../src/lib/model/files-node.ts';
import { startHubServer } from '../e2e/hub-server.ts';

const MODEL = join(import.meta.dirname, '../../models/brown-llama-4m');
const enc = new TextEncoder();

/** A reader over an in-memory folder; reports each file's bytes in two halves, and records what was asked. */
function memoryReader(files: Record<string, string | Uint8Array>, asked: string[] = []): FileReader {
  return async (name, onBytes) => {
    asked.push(name);
    const f = files[name];
    if (f === undefined) return null;
    const bytes = typeof f === 'string' ? enc.encode(f) : f;
    const half = Math.floor(bytes.byteLength / 2);
    onBytes?.(half, bytes.byteLength);
    onBytes?.(bytes.byteLength, bytes.byteLength);
    return bytes;
  };
}

const config = '{"model_type":"llama"}';
const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('readModelFiles', () => {
  it('reads config.json, generation_config.json and model.safetensors', async () => {
    const weights = bytes(10, 7);
    const progress: WeightsProgress[] = [];
    const files = await readModelFiles(
      memoryReader({ 'config.json': config, 'generation_config.json': '{"eos_token_id":2}', 'model.safetensors': weights }),
      'm',
      (p) => progress.push(p),
    );
    expect(files.config).toBe(config);
    expect(files.generationConfig).toBe('{"eos_token_id":2}');
    expect(files.weights).toEqual([weights]);
    expect(progress).toEqual([
      { file: 'model.safetensors', loaded: 5, total: 10 },
      { file: 'model.safetensors', loaded: 10, total: 10 },
    ]);
  });

  it('leaves generation_config.json out when the folder has none', async () => {
    const files = await readModelFiles(memoryReader({ 'config.json': config, 'model.safetensors': bytes(4, 1) }), 'm');
    expect(files.generationConfig).toBeUndefined();
  });

  it('reads every shard an index lists, once each, in order, counting bytes over all of them', async () => {
    const index = JSON.stringify({
      metadata: { total_size: 10 },
      weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors', c: 'model-00001-of-00002.safetensors' },
    });
    const one = bytes(4, 1);
    const two = bytes(6, 2);
    const asked: string[] = [];
    const progress: WeightsProgress[] = [];
    const files = await readModelFiles(
      memoryReader(
        {
          'config.json': config,
          'model.safetensors.index.json': index,
          'model-00001-of-00002.safetensors': one,
          'model-00002-of-00002.safetensors': two,
        },
        asked,
      ),
      'm',
      (p) => progress.push(p),
    );
    expect(files.weights).toEqual([one, two]);
    expect(asked.filter((n) => n.startsWith('model-'))).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(progress.at(-1)).toEqual({ file: 'model-00002-of-00002.safetensors', loaded: 10, total: 10 });
    expect(progress.map((p) => p.loaded)).toEqual([2, 4, 7, 10]);
  });

  it('names a folder with no config.json', async () => {
    await expect(readModelFiles(memoryReader({ 'model.safetensors': bytes(4, 1) }), 'some/dir')).rejects.toThrow(
      new ModelFilesError('some/dir is not a model folder: it has no config.json'),
    );
  });

  it('names missing weights', async () => {
    const err = await readModelFiles(memoryReader({ 'config.json': config, 'pytorch_model.bin': bytes(4, 1) }), 'some/dir').catch((e) => e);
    expect(err).toBeInstanceOf(ModelFilesError);
    expect(err.message).toMatch(/^some\/dir has no model\.safetensors and no model\.safetensors\.index\.json/);
  });

  it('names a shard the index lists that is not there', async () => {
    const index = JSON.stringify({ weight_map: { a: 'one.safetensors', b: 'two.safetensors' } });
    const reader = memoryReader({ 'config.json': config, 'model.safetensors.index.json': index, 'one.safetensors': bytes(2, 1) });
    await expect(readModelFiles(reader, 'd')).rejects.toThrow('d: the shard two.safetensors listed in model.safetensors.index.json is missing');
  });

  it('refuses an index that is not JSON, has no weight_map, or points outside the folder', () => {
    expect(() => shardNames('{', 'i')).toThrow(/^i is not valid JSON/);
    expect(() => shardNames('{"metadata":{}}', 'i')).toThrow('i has no "weight_map" object');
    expect(() => shardNames('{"weight_map":{"a":"../x.safetensors"}}', 'i')).toThrow(/names a shard "\.\.\/x\.safetensors" that is not a file of this folder/);
    expect(() => shardNames('{"weight_map":{}}', 'i')).toThrow('i lists no shard');
  });
});

describe('readers', () => {
  it('folderReader reads the shipped model as it is on disk, and missing files as null', async () => {
    const progress: WeightsProgress[] = [];
    const files = await readModelFiles(folderReader(MODEL), MODEL, (p) => progress.push(p));
    expect(files.config).toBe(readFileSync(join(MODEL, 'config.json'), 'utf8'));
    expect(files.generationConfig).toBe(readFileSync(join(MODEL, 'generation_config.json'), 'utf8'));
    const disk = readFileSync(join(MODEL, 'model.safetensors'));
    expect(files.weights).toHaveLength(1);
    expect(Buffer.from(files.weights[0] as Uint8Array).equals(disk)).toBe(true);
    expect(progress.at(-1)).toEqual({ file: 'model.safetensors', loaded: disk.byteLength, total: disk.byteLength });
    expect(await folderReader(MODEL)('model.safetensors.index.json')).toBeNull();
    expect(await folderReader(join(MODEL, 'config.json'))('x')).toBeNull(); // a file is not a folder
  });

  it('fetchReader reads the same files over HTTP, a 404 as null', async () => {
    const hub = await startHubServer('org/model', MODEL);
    try {
      const folder = `${hub.url}org/model/resolve/main/`;
      const files = await readModelFiles(fetchReader(folder), folder);
      const disk = readFileSync(join(MODEL, 'model.safetensors'));
      expect(Buffer.from(files.weights[0] as Uint8Array).equals(disk)).toBe(true);
      expect(files.config).toBe(readFileSync(join(MODEL, 'config.json'), 'utf8'));
      expect(await fetchReader(folder)('model.safetensors.index.json')).toBeNull();
    } finally {
      await hub.close();
    }
  });
});

/** Cache Storage as fetchReader uses it, in memory: what was put, by URL. */
function memoryCache(): FilesCache & { kept: Map<string, Response> } {
  const kept = new Map<string, Response>();
  return {
    kept,
    match: async (url: RequestInfo | URL) => kept.get(String(url))?.clone(),
    put: async (url: RequestInfo | URL, response: Response) => {
      kept.set(String(url), response.clone());
    },
  } as FilesCache & { kept: Map<string, Response> };
}

/** An HTTP server whose handler sees how often each path was asked for. */
async function serve(handler: (path: string, count: number, res: import('node:http').ServerResponse) => void): Promise<{ url: string; close(): Promise<void> }> {
  const counts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    handler(path, counts.get(path)!, res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}

describe('hub downloads kept in Cache Storage', () => {
  it('a second visit reads the weights from the cache with no network, the 404 it met included', async () => {
    const hub = await startHubServer('org/model', MODEL);
    const cache = memoryCache();
    const folder = `${hub.url}org/model/resolve/main/`;
    let first;
    try {
      first = await readModelFiles(fetchReader(folder, undefined, cache), folder);
    } finally {
      await hub.close();
    }
    expect([...cache.kept.keys()].map((u) => u.slice(folder.length)).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors']);
    // The hub is gone: everything comes from the cache.
    const progress: WeightsProgress[] = [];
    const again = await readModelFiles(fetchReader(folder, undefined, cache), folder, (p) => progress.push(p));
    expect(again.config).toBe(first.config);
    expect(Buffer.from(again.weights[0] as Uint8Array).equals(Buffer.from(first.weights[0] as Uint8Array))).toBe(true);
    expect(progress.at(-1)).toMatchObject({ file: 'model.safetensors', loaded: first.weights[0].byteLength });
  });

  it('keeps a 404 too, so a sharded model asks for model.safetensors once', async () => {
    const cache = memoryCache();
    const server = await serve((path, _n, res) => {
      res.statusCode = path.endsWith('/config.json') ? 200 : 404;
      res.end(path.endsWith('/config.json') ? config : 'not found');
    });
    try {
      expect(await fetchReader(`${server.url}m/`, undefined, cache)('model.safetensors')).toBeNull();
    } finally {
      await server.close();
    }
    expect(await fetchReader(`${server.url}m/`, undefined, cache)('model.safetensors')).toBeNull(); // no server now
  });

  it('a download cut short is tried again, and only the whole file is kept', async () => {
    const body = bytes(100_000, 7);
    const cache = memoryCache();
    const server = await serve((path, n, res) => {
      if (path.endsWith('/config.json')) return void res.end(config);
      if (!path.endsWith('/model.safetensors')) return void ((res.statusCode = 404), res.end());
      res.writeHead(200, { 'Content-Length': String(body.byteLength) });
      if (n === 1) {
        res.write(body.subarray(0, 30_000)); // then the connection drops
        setTimeout(() => res.destroy(), 20);
      } else {
        res.end(body);
      }
    });
    try {
      const files = await readModelFiles(fetchReader(`${server.url}m/`, undefined, cache), 'm');
      expect(files.weights[0]).toEqual(body);
      const kept = cache.kept.get(`${server.url}m/model.safetensors`)!;
      expect(new Uint8Array(await kept.clone().arrayBuffer())).toEqual(body);
    } finally {
      await server.close();
    }
  });

  it('a download that keeps failing is named, and nothing of it is kept', async () => {
    const cache = memoryCache();
    const server = await serve((path, _n, res) => {
      res.writeHead(200, { 'Content-Length': '50000' });
      res.write(bytes(10_000, 1));
      setTimeout(() => res.destroy(), 20);
    });
    const url = `${server.url}m/model.safetensors`;
    try {
      const err = await fetchReader(`${server.url}m/`, undefined, cache)('model.safetensors').then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(new RegExp(`^Downloading ${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} failed 2 times \\(.+\\); nothing of it was kept: load again to retry\\.$`));
    } finally {
      await server.close();
    }
    expect(cache.kept.size).toBe(0);
  });
});


// Resolving a model folder's files (src/lib/model/files.ts) through any reader: one safetensors file,
// the shards of an index, and a named error for each thing that is missing. No GPU.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fetchReader, type FileReader, ModelFilesError, readModelFiles, shardNames, type WeightsProgress } from '../../src/lib/model/files.ts';
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

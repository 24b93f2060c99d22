// train's --out is written whole or not at all, and a folder filled while the run trained is neither
// overwritten nor the reason the trained files are lost.
import { mkdtemp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFolder } from '../../src/cli/train.ts';

const files = [
  { name: 'adapter_config.json', data: '{"r":8}' },
  { name: 'best/adapter_config.json', data: '{"r":8,"best":true}' },
];

describe('writeFolder', () => {
  it('writes a new folder, and an empty one gives way', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lp-out-'));
    await writeFolder(join(dir, 'a'), files);
    expect(await readFile(join(dir, 'a', 'best', 'adapter_config.json'), 'utf8')).toBe('{"r":8,"best":true}');
    await mkdir(join(dir, 'b'));
    await writeFolder(join(dir, 'b'), files);
    expect((await readdir(join(dir, 'b'))).sort()).toEqual(['adapter_config.json', 'best']);
    expect((await readdir(dir)).sort()).toEqual(['a', 'b']); // no partial folder left behind
  });

  it('leaves a folder filled meanwhile alone and says where the trained files are', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lp-out-'));
    await mkdir(join(dir, 'out'));
    await writeFile(join(dir, 'out', 'notes.txt'), 'mine');
    const error = await writeFolder(join(dir, 'out'), files).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const kept = (error as Error).message.match(/kept in (\S+) instead/)?.[1];
    expect((error as Error).message).toContain('was filled by something else while this run trained');
    expect(await readFile(join(dir, 'out', 'notes.txt'), 'utf8')).toBe('mine');
    expect(await readFile(join(kept!, 'adapter_config.json'), 'utf8')).toBe('{"r":8}');
  });
});

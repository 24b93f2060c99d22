// The dataset screen's logic without the page: files assigned to splits and read with progress and
// cancellation, whether training may start, re-packing at another sequence length, and the model's
// tokenizer + config loaded the way the page loads them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findModel } from '../../src/lib/base/catalog';
import { type DatasetSource, MAX_DATASET_BYTES, parseDatasetText, PREFERENCE_NOTE, prepareTraining } from '../../src/lib/data';
import { asSource, badRecordCount, datasetName, filesReadiness, loadDatasetFiles } from '../../src/lib/data/load';
import { pageReasons, PREFERENCE_REASON } from '../../src/ui/dataset/names';
import { reasonsSentence } from '../../src/ui/format';
import { loadPageTokenizer, type PageTokenizer } from '../../src/ui/dataset/page-tokenizer';
import { repackPrepared } from '../../src/ui/dataset/repack';
import { DatasetState } from '../../src/ui/dataset/dataset.svelte';

const ROOT = join(__dirname, '../..');
const enc = new TextEncoder();
const src = (name: string, text: string): DatasetSource => ({ name, bytes: enc.encode(text) });
const pc = (i: number) => JSON.stringify({ prompt: `Question ${i}?`, completion: ` Answer ${i}.` });
const lines = (from: number, n: number) => Array.from({ length: n }, (_, k) => pc(from + k)).join('\n');

describe('files → splits', () => {
  it('reads an MLX pair by name whatever the order, and a test file apart', async () => {
    const f = await loadDatasetFiles([src('valid.jsonl', lines(0, 3)), src('test.jsonl', lines(10, 2)), src('train.jsonl', lines(20, 7))]);
    expect(f.train?.file).toBe('train.jsonl');
    expect(f.train?.examples).toHaveLength(7);
    expect(f.validation?.file).toBe('valid.jsonl');
    expect(f.validation?.examples).toHaveLength(3);
    expect(f.test?.examples).toHaveLength(2);
    expect(datasetName(f)).toBe('train.jsonl + valid.jsonl');
  });

  it('takes the first of two unnamed files for training, the second for validation, and says so; a third is not used', async () => {
    const f = await loadDatasetFiles([src('a.jsonl', lines(0, 4)), src('b.jsonl', lines(5, 2)), src('c.jsonl', lines(9, 1))]);
    expect(f.train?.file).toBe('a.jsonl');
    expect(f.validation?.file).toBe('b.jsonl');
    expect(f.notes.join('\n')).toMatch(/c\.jsonl is not used/);
  });

  it('reports progress by bytes over all files, ending at 1, naming the file being read', async () => {
    const seen: [number, string][] = [];
    await loadDatasetFiles([src('train.jsonl', lines(0, 3000)), src('valid.jsonl', lines(0, 3000))], {
      onProgress: (f, file) => seen.push([f, file]),
    });
    const fractions = seen.map(([f]) => f);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThanOrEqual(fractions[i - 1]);
    expect(fractions.at(-1)).toBe(1);
    expect(seen.some(([f, file]) => file === 'train.jsonl' && f > 0 && f < 0.5)).toBe(true);
    expect(seen.some(([f, file]) => file === 'valid.jsonl' && f > 0.5 && f < 1)).toBe(true);
  });

  it('stops when cancelled, with an AbortError', async () => {
    const controller = new AbortController();
    const run = loadDatasetFiles([src('big.jsonl', lines(0, 20_000))], {
      signal: controller.signal,
      onProgress: (f) => {
        if (f > 0.1) controller.abort(new DOMException('cancelled', 'AbortError'));
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('refuses a file over the limit before reading it, naming the limit', async () => {
    const big = { name: 'huge.jsonl', size: MAX_DATASET_BYTES + 1, arrayBuffer: () => Promise.reject(new Error('must not be read')) };
    const f = await loadDatasetFiles([big]);
    expect(f.train?.problems[0].message).toMatch(/over the limit of 50 MB \(52,428,800 bytes\)/);
    expect(filesReadiness(f, true).join()).toMatch(/^huge\.jsonl: file is .* over the limit of 50 MB/);
  });

  it('reads a File (whose Blob has a bytes() method) as a file, not as raw bytes', async () => {
    const file = new File([lines(0, 3)], 'picked.jsonl');
    expect(typeof (file as unknown as { bytes?: unknown }).bytes).toBe('function');
    const s = asSource(file);
    expect('bytes' in s).toBe(false);
    const f = await loadDatasetFiles([file]);
    expect(f.train?.examples).toHaveLength(3);
    expect(f.train?.problems).toEqual([]);
  });
});

describe('may training start?', () => {
  const withBad = [pc(1), '{"prompt": ', pc(2), JSON.stringify({ prompt: 'x', completion: 7 })].join('\n');

  it('not with bad records unless the user skips them; then the bad ones are counted', async () => {
    const f = await loadDatasetFiles([src('data.jsonl', withBad)]);
    expect(badRecordCount(f)).toBe(2);
    expect(filesReadiness(f, false)).toEqual(['data.jsonl has 2 bad records: skip them or fix the file']);
    expect(filesReadiness(f, true)).toEqual([]);
  });

  it('counts bad records of the validation file too', async () => {
    const f = await loadDatasetFiles([src('train.jsonl', lines(0, 3)), src('valid.jsonl', withBad)]);
    expect(badRecordCount(f)).toBe(2);
    expect(filesReadiness(f, false).join()).toMatch(/valid\.jsonl has 2 bad records/);
  });

  it('never on preference data with supervised fine-tuning; the page points to the note rather than repeating it', async () => {
    const f = await loadDatasetFiles([src('dpo.jsonl', JSON.stringify({ prompt: 'p', chosen: 'a', rejected: 'b' }))]);
    expect(f.train?.format).toBe('preference');
    expect(filesReadiness(f, true)).toEqual([PREFERENCE_NOTE]);
    expect(filesReadiness(f, true, 'dpo')).toEqual([]);
    expect(pageReasons(filesReadiness(f, true))).toEqual([PREFERENCE_REASON]);
    expect(reasonsSentence('Not ready to train', pageReasons(filesReadiness(f, true)))).toMatch(/[^.]\.$/);
  });

  it('end a list of reasons with one period, whatever the reasons end with', () => {
    expect(reasonsSentence('Not ready to train', ['a.', 'b', 'c to fine-tune.'])).toBe('Not ready to train: a; b; c to fine-tune.');
    expect(reasonsSentence('To train', [PREFERENCE_NOTE])).not.toMatch(/\.\.$/);
  });

  it('not with only a validation file, nor with a validation file in another format', async () => {
    const onlyValid = await loadDatasetFiles([src('valid.jsonl', lines(0, 3))]);
    expect(filesReadiness(onlyValid, true).join()).toMatch(/valid\.jsonl is a validation file; add a training file/);
    const mixed = await loadDatasetFiles([src('train.jsonl', lines(0, 3)), src('valid.jsonl', JSON.stringify({ text: 'plain' }))]);
    expect(filesReadiness(mixed, true).join()).toMatch(/mixed formats/);
  });
});

describe('a dataset that was ready stays until new files have a usable example', () => {
  const shout = src('shout.jsonl', lines(0, 4));

  it('keeps shout.jsonl when empty.jsonl has nothing in it, and says so', async () => {
    const d = new DatasetState(() => 64);
    await d.openFiles([shout]);
    expect(d.name).toBe('shout.jsonl');
    await d.openFiles([src('empty.jsonl', '')]);
    expect(d.name).toBe('shout.jsonl');
    expect(d.files?.train?.examples.length).toBe(4);
    expect(d.phase).toBe('ready');
    expect(d.notice).toBe('Kept shout.jsonl; empty.jsonl has no usable example (the file is empty).');
    // The refused file's problems are kept apart, for the panel to list.
    expect(d.rejected?.train?.file).toBe('empty.jsonl');
  });

  it('keeps it when every record of the new file is bad, naming the first problem', async () => {
    const d = new DatasetState(() => 64);
    await d.openFiles([shout]);
    await d.openFiles([src('broken.jsonl', ['{"prompt": ', JSON.stringify({ prompt: 'x', completion: 7 }), 'not json'].join('\n'))]);
    expect(d.name).toBe('shout.jsonl');
    expect(d.notice).toMatch(/^Kept shout\.jsonl; broken\.jsonl has no usable example \(broken\.jsonl, line 1: invalid JSON .*, and 2 more bad records\)\.$/);
  });

  it('takes new files with one usable example, and forgets the refused ones', async () => {
    const d = new DatasetState(() => 64);
    await d.openFiles([shout]);
    await d.openFiles([src('empty.jsonl', '')]);
    await d.openFiles([src('one.jsonl', [pc(9), '{"prompt": '].join('\n'))]);
    expect(d.name).toBe('one.jsonl');
    expect(d.notice).toBeNull();
    expect(d.rejected).toBeNull();
    expect(d.readiness).toEqual(['one.jsonl has 1 bad record: skip it or fix the file']);
  });

  it('with nothing loaded before, shows a file with no usable example and why it cannot train', async () => {
    const d = new DatasetState(() => 64);
    await d.openFiles([src('empty.jsonl', '')]);
    expect(d.name).toBe('empty.jsonl');
    expect(d.rejected).toBeNull();
    expect(d.readiness).toEqual(['empty.jsonl: the file is empty']);
  });
});

describe('with the default model’s tokenizer, loaded as the page loads it', () => {
  let t: PageTokenizer;
  beforeAll(async () => {
    t = await loadPageTokenizer(findModel('brown-llama-4m')!, { localModels: join(ROOT, 'models') });
  }, 60_000);

  it('gives the tokenizer the recipe made, its chat template and config.json', () => {
    const cases: { text: string; ids: number[] }[] = JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/tokenizer.json'), 'utf8'));
    for (const c of cases) expect(t.tokenizer.encode(c.text)).toEqual(c.ids);
    const config = JSON.parse(readFileSync(join(ROOT, 'models/brown-llama-4m/config.json'), 'utf8'));
    expect(t.config.hidden).toBe(config.hidden_size);
    expect(t.config.layers).toBe(config.num_hidden_layers);
    expect(t.config.maxPositions).toBe(config.max_position_embeddings);
    expect(t.chatTemplate?.([{ role: 'user', content: 'hi' }], true)).toBe('<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
    expect(t.modelId).toBe('brown-llama-4m');
  });

  it('re-packs at another sequence length exactly as preparing from scratch at that length', async () => {
    const text = readFileSync(join(ROOT, 'static/samples/pirate-qa.jsonl'), 'utf8');
    const parsed = await parseDatasetText(text, 'pirate-qa.jsonl');
    const at = (seqLen: number) => prepareTraining({ train: parsed, tokenizer: t.tokenizer, chatTemplate: t.chatTemplate, seqLen });
    const p128 = await at(128);
    expect(repackPrepared(p128, 128, t.tokenizer.padId)).toBe(p128);
    const fresh = await at(24);
    const repacked = repackPrepared(p128, 24, t.tokenizer.padId);
    expect(repacked.train.packed.T).toBe(24);
    expect(repacked.train.packed.inputIds).toEqual(fresh.train.packed.inputIds);
    expect(repacked.train.packed.targets).toEqual(fresh.train.packed.targets);
    expect(repacked.validation?.packed.targets).toEqual(fresh.validation?.packed.targets);
    expect(repacked.problems).toEqual(fresh.problems);
    // Every pirate example is longer than 25 tokens: each is named as truncated.
    expect(repacked.problems.filter((p) => p.message.startsWith('truncated'))).toHaveLength(parsed.examples.length);
  });

  it('fails with a reason for a hub model it cannot reach', async () => {
    const spec = { id: 'nobody/nothing', source: 'hub' as const, dtype: { webgpu: 'fp32' as const, wasm: 'fp32' as const }, chat: false };
    await expect(loadPageTokenizer(spec, { localModels: join(ROOT, 'models'), hubHost: 'http://127.0.0.1:9/' })).rejects.toThrow(
      /^Could not reach 127\.0\.0\.1:9 for http:\/\/127\.0\.0\.1:9\/nobody\/nothing\/resolve\/main\/config\.json \(bad port\)/,
    );
  });
});

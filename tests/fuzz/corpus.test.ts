// The regression corpus (tests/corpus/: files crafted to break a parser, made by make-corpus.mjs): each
// file goes to the reader its manifest names and must be refused with the message it names, within the
// fuzz budget, and without an allocation past what the file can justify.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeProblem, parseDatasetFile } from '../../src/lib/data';
import { parseModelConfig, ModelConfigError } from '../../src/lib/model/config';
import { parseSafetensors, SafetensorsError } from '../../src/lib/model/safetensors';
import { expectedAdapterTensors, importAdapter, parseAdapterConfig, PeftError, readAdapterFiles, type BaseModel } from '../../src/lib/peft';
import { fuzzCase, noteAllocation } from './harness';
import { countInflated } from './inflate-meter';

const ROOT = resolve(import.meta.dirname, '../..');
const CORPUS = resolve(ROOT, 'tests/corpus');
const base: BaseModel = { name: 'brown-llama-4m', config: parseModelConfig(readFileSync(resolve(ROOT, 'models/brown-llama-4m/config.json'), 'utf8')) };

interface Case {
  file: string;
  reader: 'adapter_config' | 'safetensors' | 'adapter' | 'dataset' | 'model_config';
  expect: string;
  why: string;
}

const manifest: Case[] = JSON.parse(readFileSync(resolve(CORPUS, 'manifest.json'), 'utf8'));
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** The message the file's reader answers with (each reader's own named error), or null when it accepts it. */
async function answer(c: Case, bytes: Uint8Array): Promise<string | null> {
  switch (c.reader) {
    case 'adapter_config': {
      const r = await fuzzCase('corpus', bytes.length, () => expectedAdapterTensors(parseAdapterConfig(text(bytes)), base), [PeftError]);
      return r.ok ? null : r.error.message;
    }
    case 'safetensors': {
      const r = await fuzzCase('corpus', bytes.length, () => parseSafetensors(bytes, { source: c.file }), [SafetensorsError]);
      return r.ok ? null : r.error.message;
    }
    case 'adapter': {
      const r = await fuzzCase('corpus', bytes.length, async () => importAdapter(await readAdapterFiles([{ name: c.file, bytes }], { base }), base), [PeftError]);
      return r.ok ? null : r.error.message;
    }
    case 'model_config': {
      const r = await fuzzCase('corpus', bytes.length, () => parseModelConfig(text(bytes)), [ModelConfigError]);
      return r.ok ? null : r.error.message;
    }
    case 'dataset': {
      const r = await fuzzCase('corpus', bytes.length, () => parseDatasetFile({ name: c.file, bytes }), []);
      if (!r.ok) return r.error.message;
      const errors = r.value.problems.filter((p) => p.severity === 'error');
      return errors.length && r.value.examples.length === 0 ? errors.map(describeProblem).join('\n') : null;
    }
  }
}

describe('the regression corpus: every crafted file is refused with its message', () => {
  it('has a manifest entry for each reader', () => {
    expect(new Set(manifest.map((c) => c.reader))).toEqual(new Set(['adapter_config', 'safetensors', 'adapter', 'dataset', 'model_config']));
  });

  for (const c of manifest) {
    it(`${c.file} (${c.why})`, async () => {
      const bytes = new Uint8Array(readFileSync(resolve(CORPUS, 'files', c.file)));
      const meter = countInflated();
      try {
        const message = await answer(c, bytes);
        expect(message, `${c.file} was accepted`).not.toBeNull();
        expect(message).toContain(c.expect);
      } finally {
        meter.stop();
      }
      noteAllocation('corpus', meter.largest, bytes.length);
      // An archive inflates no more than its entries may hold: at most 1 MiB (adapter_config.json's limit)
      // or the adapter's own size on brown-llama-4m (about 1.6 MB), plus one chunk of the stream.
      expect(meter.largest, `${c.file} inflated ${meter.largest} bytes in one entry`).toBeLessThan(2 * 1024 * 1024);
    });
  }
});

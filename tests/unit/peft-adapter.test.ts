// PEFT adapter files: config read/write, export, import with validation, against the recipe's fixtures
// (tests/fixtures/*.json and *.safetensors, written by PyTorch with PEFT's names) and the shipped model.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/lib/model/config';
import { parseSafetensors, tensorBytes, tensorToFloat32, writeSafetensors, type TensorToWrite } from '../../src/lib/model/safetensors';
import { isTargetModule, type LoraConfig } from '../../src/lib/adapters/config';
import { MAX_TARGET_PATTERN_CHARS } from '../../src/lib/adapters/target-pattern';
import { loraKeys } from '../../src/lib/adapters/lora';
import { defaultMethod } from '../../src/lib/train/config';
import {
  adapterConfigJson,
  type AdapterTensors,
  type BaseModel,
  exportAdapter,
  expectedAdapterTensors,
  importAdapter,
  MAX_ADAPTER_WEIGHTS_BYTES,
  nameAdapterWeights,
  parseAdapterConfig,
  PeftError,
  readAdapterFiles,
  readZip,
  sameAdapter,
  writeZip,
} from '../../src/lib/peft';
import { FIXTURES, ROOT } from '../gpu/fixtures';

const read = (p: string) => readFileSync(p);
const enc = (s: string) => new TextEncoder().encode(s);

const llamaCfg = parseModelConfig(read(join(ROOT, 'models/brown-llama-4m/config.json')).toString());
const base: BaseModel = { name: 'brown-llama-4m', config: llamaCfg };
const gpt2: BaseModel = { name: 'tiny-gpt2', config: parseModelConfig(read(join(FIXTURES, 'tiny-gpt2/config.json')).toString()) };
const loraKey = (module: string, which: 'A' | 'B') => loraKeys(module)[which];
const lora = (r: number, lora_alpha: number, target_modules: string[] | string, extra: Partial<LoraConfig> = {}): LoraConfig => ({
  ...defaultMethod('LORA'),
  r,
  lora_alpha,
  target_modules,
  ...extra,
});
/** LoRA tensors expected for a method alone (no file-level prefix shape). */
const expectedFor = (method: LoraConfig, b: BaseModel = base) => expectedAdapterTensors({ method, prefixShape: null }, b);
const fixtureConfig = (name: string) => parseAdapterConfig(read(join(FIXTURES, `${name}.json`)).toString());
/** readAdapterFiles + importAdapter, as the page does with a drop of files or a .zip. */
const importAdapterFiles = async (files: { name: string; bytes: Uint8Array }[], b: BaseModel) => importAdapter(await readAdapterFiles(files), b);

/** The adapter tensors of a fixture file: every tensor except gradients and the test inputs. */
function fixtureAdapter(name: string): AdapterTensors {
  const st = parseSafetensors(read(join(FIXTURES, `${name}.safetensors`)));
  const out: AdapterTensors = new Map();
  for (const t of st.tensors) {
    if (t.name.endsWith('.grad') || ['input_ids', 'targets', 'loss'].includes(t.name)) continue;
    out.set(t.name, { shape: t.shape, data: tensorToFloat32(st, t.name) });
  }
  return out;
}

function asFiles(config: string, tensors: AdapterTensors, extra: Record<string, TensorToWrite> = {}) {
  const w: Record<string, TensorToWrite> = { ...extra };
  for (const [k, t] of tensors) w[k] = { dtype: 'F32', shape: t.shape, data: t.data };
  return { config, weights: writeSafetensors(w, { format: 'pt' }) };
}

function peftError(fn: () => unknown): PeftError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PeftError) return e;
    throw e;
  }
  throw new Error('expected a PeftError');
}

describe('the recipe fixtures import as PEFT adapters for the default model', () => {
  for (const name of ['lora', 'bottleneck', 'prefix']) {
    it(`${name}: exactly the keys and shapes the config calls for`, () => {
      const tensors = fixtureAdapter(name);
      const config = read(join(FIXTURES, `${name}.json`)).toString();
      const expected = expectedAdapterTensors(parseAdapterConfig(config), base);
      expect([...expected.keys()].sort()).toEqual([...tensors.keys()].sort());
      for (const [k, shape] of expected) expect(tensors.get(k)!.shape, k).toEqual(shape);
      const imported = importAdapter(asFiles(config, tensors), base);
      expect(imported.warnings).toEqual([]);
      expect(imported.tensors.size).toBe(tensors.size);
    });
  }

  it('LoRA keys and shapes follow PEFT: A (r, in), B (out, r)', () => {
    const e = expectedAdapterTensors(fixtureConfig('lora'), base);
    expect(e.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')).toEqual([4, 256]);
    expect(e.get('base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight')).toEqual([128, 4]); // NKV·HS = 2·64
    expect(e.get('base_model.model.model.layers.3.mlp.down_proj.lora_A.weight')).toEqual([4, 688]);
  });

  it('prefix: prompt_embeddings (P, L·2·NKV·HS)', () => {
    const e = expectedAdapterTensors(fixtureConfig('prefix'), base);
    expect(e.get('prompt_embeddings')).toEqual([8, 4 * 2 * 2 * 64]);
  });
});

describe('adapter_config.json', () => {
  it('is written as PEFT writes it: sorted keys, two-space indent, every field of the recipe config with its value', () => {
    const recipe = JSON.parse(read(join(FIXTURES, 'lora.json')).toString());
    const text = adapterConfigJson(lora(4, 8, ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']), base);
    const obj = JSON.parse(text);
    expect(Object.keys(obj)).toEqual([...Object.keys(obj)].sort());
    expect(text).toContain('\n  "lora_alpha": 8,');
    for (const [k, v] of Object.entries(recipe)) {
      if (k === 'inference_mode') continue; // PEFT writes true when saving
      expect(obj[k], k).toEqual(v);
    }
    expect(obj.inference_mode).toBe(true);
  });

  it('prefix config for GQA stores the key/value width, as the recipe does', () => {
    const recipe = JSON.parse(read(join(FIXTURES, 'prefix.json')).toString());
    const obj = JSON.parse(adapterConfigJson({ peft_type: 'PREFIX_TUNING', num_virtual_tokens: 8 }, base));
    for (const [k, v] of Object.entries(recipe)) if (k !== 'inference_mode') expect(obj[k], k).toEqual(v);
  });

  it('bottleneck config matches the recipe json', () => {
    const recipe = JSON.parse(read(join(FIXTURES, 'bottleneck.json')).toString());
    const obj = JSON.parse(adapterConfigJson({ peft_type: 'BOTTLENECK', bottleneck_size: 16, non_linearity: 'relu', placement: ['self_attn', 'mlp'] }, base));
    for (const [k, v] of Object.entries(recipe)) expect(obj[k], k).toEqual(v);
  });

  it('names every problem in a bad config', () => {
    const e = peftError(() =>
      parseAdapterConfig({ peft_type: 'LORA', task_type: 'SEQ_CLS', r: 0, lora_alpha: -1, target_modules: [], bias: 'all', use_dora: true }),
    );
    expect(e.problems).toEqual([
      'task_type "SEQ_CLS" needs "score" in modules_to_save (the reward model\'s head), got undefined',
      'r must be a positive integer, got 0',
      'lora_alpha must be a positive number, got -1',
      'target_modules must be a non-empty list of module names or a regular expression, got []',
      'bias "all" is not supported: only "none" (LoRA without trained biases)',
      'use_dora is true: DoRA adapters are not supported',
    ]);
    expect(peftError(() => parseAdapterConfig({ peft_type: 'IA3' })).message).toMatch(/peft_type "IA3" is not supported/);
    expect(peftError(() => parseAdapterConfig('{not json')).message).toMatch(/adapter_config\.json: not valid JSON/);
    expect(peftError(() => parseAdapterConfig({ peft_type: 'PREFIX_TUNING', num_virtual_tokens: 4, num_layers: 4, token_dim: 128, num_attention_heads: 2, prefix_projection: true })).message).toMatch(
      /prefix_projection is true/,
    );
  });

  it('regex target_modules, all-linear and layers_to_transform select modules as PEFT does', () => {
    const rx = expectedFor(lora(2, 4, '.*\\.(q|v)_proj'));
    expect(rx.size).toBe(4 * 2 * 2);
    expect(rx.has(loraKey('model.layers.2.self_attn.v_proj', 'A'))).toBe(true);
    const all = expectedFor(lora(2, 4, 'all-linear'));
    expect(all.size).toBe(4 * 7 * 2);
    const some = expectedFor(lora(2, 4, ['q_proj'], { layers_to_transform: [1, 3] }));
    expect([...some.keys()].filter((k) => k.endsWith('lora_A.weight'))).toEqual([
      loraKey('model.layers.1.self_attn.q_proj', 'A'),
      loraKey('model.layers.3.self_attn.q_proj', 'A'),
    ]);
  });

  // A string target_modules is PEFT's re.fullmatch pattern. A backtracking engine takes 2^n steps on
  // "(.|.)*Z" against an n-character path; the linear-time engine answers at once. Were it
  // backtracking again, this test would not finish (a synchronous loop outlives any timeout): the
  // run's own time limit would catch it.
  it('matches a target_modules pattern in linear time, with re.fullmatch semantics', () => {
    const hostile = '(.|.)*Z';
    expect(parseAdapterConfig({ peft_type: 'LORA', r: 2, target_modules: hostile }).method).toMatchObject({ target_modules: hostile });
    expect(() => expectedFor(lora(2, 4, hostile))).toThrow(/target_modules "\(\.\|\.\)\*Z" match no module of brown-llama-4m/);
    const path = 'model.layers.0.self_attn.q_proj'.repeat(100);
    expect(isTargetModule(hostile, path)).toBe(false);
    expect(isTargetModule(hostile, `${path}Z`)).toBe(true);
    // fullmatch: the whole path, not a part of it; Python's \Z is end of string.
    expect(isTargetModule('q_proj', 'model.layers.0.self_attn.q_proj')).toBe(false);
    expect(isTargetModule('.*q_proj', 'model.layers.0.self_attn.q_proj.x')).toBe(false);
    expect(isTargetModule('.*q_proj\\Z', 'model.layers.0.self_attn.q_proj')).toBe(true);
    expect(isTargetModule('.*(?P<which>q|v)_proj', 'model.layers.0.self_attn.v_proj')).toBe(true);
  });

  it('refuses a target_modules pattern it cannot run in linear time, or too long or too large, saying which', () => {
    const problem = (tm: string) => peftError(() => parseAdapterConfig({ peft_type: 'LORA', r: 2, target_modules: tm })).problems[0];
    expect(problem('(?!.*vision).*q_proj')).toMatch(/lookahead and lookbehind .* cannot be matched in linear time/);
    expect(problem('.*(?<!mlp)\\.q_proj')).toMatch(/lookahead and lookbehind/);
    expect(problem('(q)_proj\\1')).toMatch(/backreferences cannot be matched in linear time/);
    expect(problem('(q|v')).toMatch(/is not a regular expression this app can run: missing closing \)/);
    expect(problem('a'.repeat(MAX_TARGET_PATTERN_CHARS + 1))).toMatch(new RegExp(`is ${MAX_TARGET_PATTERN_CHARS + 1} characters long, over the limit of ${MAX_TARGET_PATTERN_CHARS}`));
    expect(problem('x{1000}'.repeat(11))).toMatch(/compiles to [\d,]+ instructions, over the limit of 10,000/);
    // The message quotes a long pattern shortened, not whole.
    expect(problem('a'.repeat(5000)).length).toBeLessThan(400);
  });

  it('GPT-2: Conv1D modules, c_attn is 3C wide', () => {
    const e = expectedFor(lora(2, 2, ['c_attn', 'c_proj']), gpt2);
    expect(e.get('base_model.model.transformer.h.0.attn.c_attn.lora_B.weight')).toEqual([3 * 64, 2]);
    // c_proj matches both the attention output and the MLP output projection, as in PEFT
    expect(e.get('base_model.model.transformer.h.1.mlp.c_proj.lora_A.weight')).toEqual([2, 4 * 64]);
    expect(e.size).toBe(2 * 3 * 2);
  });
});

describe('export and import', () => {
  it('round-trips LoRA bit for bit, as two files and as a .zip', async () => {
    const tensors = fixtureAdapter('lora');
    const cfg = fixtureConfig('lora');
    const exported = exportAdapter(cfg.method, tensors, base);
    expect(exported.files.map((f) => f.name)).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const st = parseSafetensors(exported.weights);
    expect(st.metadata).toEqual({ format: 'pt' });

    const fromFiles = await importAdapterFiles(exported.files.map((f) => ({ name: f.name, bytes: f.data })), base);
    const fromZip = await importAdapterFiles([{ name: 'my-lora.zip', bytes: exported.zip() }], base);
    for (const imported of [fromFiles, fromZip]) {
      expect(imported.config).toEqual(cfg);
      for (const [k, t] of tensors) {
        expect(imported.tensors.get(k)!.shape).toEqual(t.shape);
        expect(Buffer.from(imported.tensors.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength)))).toBe(true);
      }
    }
  });

  it('writes a reward model as PEFT does for SEQ_CLS (the score head under modules_to_save) and reads it back', () => {
    const tensors = fixtureAdapter('lora');
    const C = llamaCfg.hidden;
    tensors.set('base_model.model.score.weight', { shape: [1, C], data: Float32Array.from({ length: C }, (_, i) => (i - C / 2) / C) });
    const method = { ...(fixtureConfig('lora').method as LoraConfig), modules_to_save: ['score' as const] };
    const exported = exportAdapter(method, tensors, base);
    const cfg = JSON.parse(exported.configJson);
    expect([cfg.task_type, cfg.modules_to_save, cfg.peft_type]).toEqual(['SEQ_CLS', ['score'], 'LORA']);
    const back = importAdapter({ config: exported.configJson, weights: exported.weights }, base);
    expect(back.config.method).toEqual(method);
    expect(Array.from(back.tensors.get('base_model.model.score.weight')!.data)).toEqual(Array.from(tensors.get('base_model.model.score.weight')!.data));
    // PEFT lists "classifier" too for SEQ_CLS; it has no weights here and reads the same
    expect(parseAdapterConfig({ ...cfg, modules_to_save: ['classifier', 'score'] }).method).toEqual(method);
    // without the head's tensor the adapter is incomplete, and says what is missing
    tensors.delete('base_model.model.score.weight');
    expect(() => importAdapter({ config: exported.configJson, weights: exportAdapter(fixtureConfig('lora').method, tensors, base).weights }, base)).toThrow(
      /tensor "base_model\.model\.score\.weight" is missing \(shape \[1, 256\] expected\)/,
    );
  });

  it('round-trips prefix and bottleneck adapters', () => {
    for (const name of ['prefix', 'bottleneck']) {
      const tensors = fixtureAdapter(name);
      const exported = exportAdapter(fixtureConfig(name).method, tensors, base);
      const back = importAdapter({ config: exported.configJson, weights: exported.weights }, base);
      for (const [k, t] of tensors) expect(Array.from(back.tensors.get(k)!.data)).toEqual(Array.from(t.data));
    }
  });

  it('reads a zip with the files in a folder, ignoring macOS metadata', async () => {
    const exported = exportAdapter(fixtureConfig('prefix').method, fixtureAdapter('prefix'), base);
    const zip = writeZip([
      { name: 'adapter/adapter_config.json', data: exported.files[0].data },
      { name: '__MACOSX/adapter/._adapter_config.json', data: enc('junk') },
      { name: 'adapter/adapter_model.safetensors', data: exported.weights },
    ]);
    const files = await readAdapterFiles([{ name: 'download', bytes: zip }]);
    expect(files.config).toBe(exported.configJson);
    expect((await readZip(zip)).length).toBe(3);
  });

  it('keeps the adapter’s name in the weights’ metadata, next to PEFT’s format, and reads it back on import', async () => {
    const tensors = fixtureAdapter('lora');
    const exported = exportAdapter(fixtureConfig('lora').method, tensors, base);
    expect(importAdapter({ config: exported.configJson, weights: exported.weights }, base).name).toBeNull();
    const named = nameAdapterWeights(exported.weights, 'Pirate answers · r8');
    const st = parseSafetensors(named);
    expect(st.metadata).toEqual({ format: 'pt', name: 'Pirate answers · r8' });
    expect(st.dataStart % 8).toBe(0);
    // The tensors are the same bytes; only the header grew.
    const before = parseSafetensors(exported.weights);
    for (const t of before.tensors) expect(Buffer.from(tensorBytes(st, t.name)).equals(Buffer.from(tensorBytes(before, t.name)))).toBe(true);
    expect(named.byteLength - st.dataStart).toBe(exported.weights.byteLength - before.dataStart);
    const zip = writeZip([
      { name: 'adapter_config.json', data: enc(exported.configJson) },
      { name: 'adapter_model.safetensors', data: named },
    ]);
    expect((await importAdapterFiles([{ name: 'download (3).zip', bytes: zip }], base)).name).toBe('Pirate answers · r8');
    // Renamed again: the new name replaces the old one.
    expect(parseSafetensors(nameAdapterWeights(named, 'Renamed')).metadata).toEqual({ format: 'pt', name: 'Renamed' });
  });

  it('tells the same adapter apart from another: settings and tensors count, the kept name and the header order do not', () => {
    const exported = exportAdapter(fixtureConfig('lora').method as LoraConfig, fixtureAdapter('lora'), base);
    const a = { configJson: exported.configJson, weights: nameAdapterWeights(exported.weights, 'First') };
    const b = { configJson: JSON.stringify(JSON.parse(exported.configJson)), weights: nameAdapterWeights(exported.weights, 'Second') };
    expect(sameAdapter(a, b)).toBe(true);
    // The same tensors written in another order.
    const st = parseSafetensors(exported.weights);
    const reversed: Record<string, TensorToWrite> = {};
    for (const t of [...st.tensors].reverse()) reversed[t.name] = { dtype: t.dtype, shape: t.shape, data: tensorBytes(st, t.name) };
    expect(sameAdapter(a, { configJson: exported.configJson, weights: writeSafetensors(reversed) })).toBe(true);
    // One value changed, another alpha, an unreadable file: different.
    const changed = exported.weights.slice();
    changed[changed.length - 1] ^= 1;
    expect(sameAdapter(a, { configJson: exported.configJson, weights: changed })).toBe(false);
    expect(sameAdapter(a, { configJson: JSON.stringify({ ...JSON.parse(exported.configJson), lora_alpha: 3 }), weights: exported.weights })).toBe(false);
    expect(sameAdapter(a, { configJson: exported.configJson, weights: new Uint8Array(8) })).toBe(false);
  });

  it('refuses to export tensors that do not fit the base', () => {
    const tensors = fixtureAdapter('lora');
    tensors.delete(loraKey('model.layers.0.self_attn.q_proj', 'A'));
    const e = peftError(() => exportAdapter(fixtureConfig('lora').method, tensors, base));
    expect(e.problems).toEqual(['tensor "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight" is missing (shape [4, 256] expected)']);
  });
});

describe('import names everything wrong', () => {
  const loraJson = read(join(FIXTURES, 'lora.json')).toString();

  it('missing files, and a PyTorch .bin instead of safetensors', async () => {
    await expect(readAdapterFiles([{ name: 'adapter_config.json', bytes: enc(loraJson) }])).rejects.toThrow(/adapter_model\.safetensors is missing/);
    await expect(
      readAdapterFiles([
        { name: 'adapter_config.json', bytes: enc(loraJson) },
        { name: 'adapter_model.bin', bytes: new Uint8Array(8) },
      ]),
    ).rejects.toThrow(/adapter_model\.bin \(PyTorch pickle\) is not supported/);
    await expect(readAdapterFiles([{ name: 'a.zip', bytes: enc('PK\u0003\u0004 broken') }])).rejects.toThrow(/a\.zip: not a ZIP archive/);
  });

  // tests/corpus/files/zip-bomb.zip: 1 MiB holding a 1 GiB adapter_model.safetensors (zeros).
  it('a zip bomb: refused from its declared size before a byte is inflated, naming the limit', async () => {
    const bomb = new Uint8Array(read(join(ROOT, 'tests/corpus/files/zip-bomb.zip')));
    const files = [{ name: 'adapter.zip', bytes: bomb }];
    // With the base model: the most this config's tensors can take (F64) plus header room.
    await expect(readAdapterFiles(files, { base })).rejects.toThrow(
      /adapter_model\.safetensors would decompress to 1,073,741,824 bytes, over the limit of 1,640,448 bytes \(the most a LORA adapter of this adapter_config\.json for brown-llama-4m can hold/,
    );
    // Without one: the fixed cap.
    await expect(readAdapterFiles(files)).rejects.toThrow(
      new RegExp(`over the limit of ${MAX_ADAPTER_WEIGHTS_BYTES.toLocaleString('en-US')} bytes \\(the largest adapter read without a base model to size it\\)`),
    );
  });

  it('a corrupt safetensors file', () => {
    const good = asFiles(loraJson, fixtureAdapter('lora'));
    const huge = good.weights.slice();
    new DataView(huge.buffer).setUint32(0, 0xfffffff0, true);
    expect(peftError(() => importAdapter({ config: loraJson, weights: huge }, base)).message).toMatch(
      /adapter_model\.safetensors: header length \d+ bytes (exceeds the limit|runs past the end)/,
    );
    const truncated = good.weights.subarray(0, good.weights.length - 100);
    expect(peftError(() => importAdapter({ config: loraJson, weights: truncated }, base)).message).toMatch(/run past the data section/);
  });

  it('shapes that disagree with r or the base model', () => {
    const cfg = JSON.parse(loraJson);
    cfg.r = 8;
    const e = peftError(() => importAdapter(asFiles(JSON.stringify(cfg), fixtureAdapter('lora')), base));
    expect(e.problems[0]).toBe(
      'tensor "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight" has shape [4, 256], but brown-llama-4m needs [8, 256] (r = 8 × the module\'s input width)',
    );
    expect(e.problems.length).toBe(13); // 12 listed, then how many more
    expect(e.problems[12]).toMatch(/^… and 44 more$/);
  });

  it('tensors for layers or modules the base does not have', () => {
    const tensors = fixtureAdapter('lora');
    const extra = {
      [loraKey('model.layers.9.self_attn.q_proj', 'A')]: { dtype: 'F32' as const, shape: [4, 256], data: new Float32Array(1024) },
      [loraKey('model.layers.0.self_attn.rotary', 'A')]: { dtype: 'F32' as const, shape: [4, 256], data: new Float32Array(1024) },
    };
    const e = peftError(() => importAdapter(asFiles(loraJson, tensors, extra), base));
    expect(e.problems).toContain(
      'tensor "base_model.model.model.layers.9.self_attn.q_proj.lora_A.weight" is for layer 9, but brown-llama-4m has 4 layers (0–3)',
    );
    expect(e.problems).toContain('tensor "base_model.model.model.layers.0.self_attn.rotary.lora_A.weight": brown-llama-4m has no module "model.layers.0.self_attn.rotary"');
  });

  it('a module outside target_modules', () => {
    const cfg = JSON.parse(loraJson);
    cfg.target_modules = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj'];
    const e = peftError(() => importAdapter(asFiles(JSON.stringify(cfg), fixtureAdapter('lora')), base));
    expect(e.problems[0]).toMatch(/module "model\.layers\.\d\.mlp\.down_proj" is not in target_modules/);
  });

  it('integer dtypes and non-finite values', () => {
    const tensors = fixtureAdapter('prefix');
    const cfg = read(join(FIXTURES, 'prefix.json')).toString();
    const bad = tensors.get('prompt_embeddings')!;
    const withNaN = { shape: bad.shape, data: bad.data.slice() };
    withNaN.data[17] = NaN;
    const e1 = peftError(() => importAdapter(asFiles(cfg, new Map([['prompt_embeddings', withNaN]])), base));
    expect(e1.problems).toEqual(['tensor "prompt_embeddings" holds a non-finite value (NaN) at element 17']);
    const ints = { prompt_embeddings: { dtype: 'I32' as const, shape: bad.shape, data: new Int32Array(bad.data.length) } };
    const e2 = peftError(() => importAdapter(asFiles(cfg, new Map(), ints), base));
    expect(e2.problems[0]).toBe('tensor "prompt_embeddings" has dtype I32; adapter weights must be floating point (F32, F16, BF16)');
  });

  it('a config that does not fit the base model', () => {
    const cfg = { ...JSON.parse(read(join(FIXTURES, 'prefix.json')).toString()), num_layers: 6, token_dim: 256, num_attention_heads: 4 };
    const e = peftError(() => importAdapter(asFiles(JSON.stringify(cfg), fixtureAdapter('prefix')), base));
    expect(e.problems).toEqual([
      'num_layers is 6 but brown-llama-4m has 4 layers',
      'num_attention_heads is 4 but brown-llama-4m has 2 key/value heads',
      "token_dim is 256 but brown-llama-4m's keys are 128 wide (2 heads × 64)",
    ]);
    expect(peftError(() => expectedFor(lora(2, 2, ['c_attn']))).problems[0]).toMatch(
      /target_modules \["c_attn"\] match no module of brown-llama-4m \(its projections: q_proj, k_proj/,
    );
  });

  it('a different base model name is a warning, not an error', () => {
    const cfg = { ...JSON.parse(loraJson), base_model_name_or_path: 'HuggingFaceTB/SmolLM2-135M' };
    const r = importAdapter(asFiles(JSON.stringify(cfg), fixtureAdapter('lora')), base);
    expect(r.warnings[0]).toMatch(/trained on "HuggingFaceTB\/SmolLM2-135M" and is loaded onto "brown-llama-4m"/);
  });

  it('F16 and BF16 adapter weights are read as float32; ".default" adapter names are accepted', () => {
    const tensors = fixtureAdapter('bottleneck');
    const w: Record<string, TensorToWrite> = {};
    for (const [k, t] of tensors) {
      const half = new Uint16Array(t.data.length).fill(0x3c00); // 1.0 in F16
      w[k] = { dtype: 'F16', shape: t.shape, data: half };
    }
    const r = importAdapter({ config: read(join(FIXTURES, 'bottleneck.json')).toString(), weights: writeSafetensors(w) }, base);
    for (const t of r.tensors.values()) expect(t.data.every((x) => x === 1)).toBe(true);

    const lora = fixtureAdapter('lora');
    const renamed: AdapterTensors = new Map([...lora].map(([k, t]) => [k.replace(/\.lora_([AB])\.weight$/, '.lora_$1.default.weight'), t]));
    expect(importAdapter(asFiles(loraJson, renamed), base).tensors.size).toBe(lora.size);
  });
});

describe('an adapter trained by TRL with PEFT (tests/fixtures/peft-trl-lora: every field recent PEFT writes)', () => {
  const trlConfig = read(join(FIXTURES, 'peft-trl-lora/adapter_config.json')).toString();
  const fields = JSON.parse(trlConfig) as Record<string, unknown>;
  /** The weights PEFT saves for it on the default model, named and shaped by hand: A (r, in), B (out, r). */
  function trlWeights(r = 16): Uint8Array {
    const dims: Record<string, [string, number, number]> = {
      q_proj: ['self_attn', 256, 256],
      k_proj: ['self_attn', 256, 128],
      v_proj: ['self_attn', 256, 128],
      o_proj: ['self_attn', 256, 256],
      gate_proj: ['mlp', 256, 688],
      up_proj: ['mlp', 256, 688],
      down_proj: ['mlp', 688, 256],
    };
    const w: Record<string, TensorToWrite> = {};
    let seed = 1;
    const values = (n: number) => Float32Array.from({ length: n }, () => ((seed = (seed * 48271) % 2147483647) / 2147483647 - 0.5) * 0.02);
    for (let layer = 0; layer < 4; layer++) {
      for (const [name, [block, inF, outF]] of Object.entries(dims)) {
        const key = `base_model.model.model.layers.${layer}.${block}.${name}`;
        w[`${key}.lora_A.weight`] = { dtype: 'F32', shape: [r, inF], data: values(r * inF) };
        w[`${key}.lora_B.weight`] = { dtype: 'F32', shape: [outF, r], data: values(outF * r) };
      }
    }
    return writeSafetensors(w, { format: 'pt' });
  }
  const withFields = (extra: Record<string, unknown>) => JSON.stringify({ ...fields, ...extra });

  it('imports: r, lora_alpha, lora_dropout and target_modules as written, every other field accepted, the base folder name a warning', async () => {
    const r = await importAdapterFiles(
      [
        { name: 'output/adapter_config.json', bytes: enc(trlConfig) },
        { name: 'output/adapter_model.safetensors', bytes: trlWeights() },
      ],
      base,
    );
    expect(r.config.method).toEqual({
      peft_type: 'LORA',
      r: 16,
      lora_alpha: 32,
      lora_dropout: 0.05,
      target_modules: ['v_proj', 'o_proj', 'down_proj', 'k_proj', 'gate_proj', 'q_proj', 'up_proj'],
      use_rslora: false,
      layers_to_transform: null,
    });
    expect(r.tensors.size).toBe(4 * 7 * 2);
    expect(r.warnings).toEqual([
      'this adapter was trained on "models/brown-llama-4m" and is loaded onto "brown-llama-4m": the shapes fit, but the results may not be what its author saw',
    ]);
  });

  const harmless: [string, Record<string, unknown>][] = [
    ['inference_mode false (saved mid-training)', { inference_mode: false }],
    ['init_lora_weights false, "gaussian", "eva"', { init_lora_weights: 'gaussian' }],
    ['init_lora_weights false', { init_lora_weights: false }],
    ['init_lora_weights "eva" with its eva_config', { init_lora_weights: 'eva', eva_config: { rho: 2.0, tau: 0.99, use_label_mask: true } }],
    ['auto_mapping of AutoPeftModel', { auto_mapping: { base_model_class: 'LlamaForCausalLM', parent_library: 'transformers.models.llama.modeling_llama' } }],
    ['a revision, a PEFT version and runtime settings', { revision: 'main', peft_version: '0.17.1', runtime_config: { ephemeral_gpu_offload: true } }],
    ['megatron settings', { megatron_config: { tensor_model_parallel_size: 1 }, megatron_core: 'megatron.core' }],
    ['LoftQ, CorDA and QA-LoRA settings that are not switched on', { loftq_config: { loftq_bits: 4 }, corda_config: { corda_method: 'ipm' }, qalora_group_size: 32 }],
    ['empty exclude_modules, rank_pattern, alpha_pattern, modules_to_save', { exclude_modules: [], rank_pattern: {}, alpha_pattern: {}, modules_to_save: [] }],
    ['layers_pattern "layers" with layers_to_transform', { layers_to_transform: [0, 2], layers_pattern: 'layers' }],
    ['layers_pattern without layers_to_transform', { layers_pattern: 'blocks' }],
    ['lora_dropout 0.1 (training only)', { lora_dropout: 0.1 }],
  ];
  for (const [what, extra] of harmless) {
    it(`accepts ${what}: it changes nothing the weights compute`, () => {
      const layers = (extra.layers_to_transform as number[] | undefined) ?? null;
      const weights = layers ? undefined : trlWeights();
      const cfg = parseAdapterConfig(withFields(extra));
      expect(cfg.method).toMatchObject({ peft_type: 'LORA', r: 16, lora_alpha: 32, layers_to_transform: layers });
      if (weights) expect(importAdapter({ config: withFields(extra), weights }, base).tensors.size).toBe(4 * 7 * 2);
    });
  }

  const changing: [string, Record<string, unknown>, RegExp][] = [
    ['bias "all"', { bias: 'all' }, /^bias "all" is not supported/],
    ['lora_bias', { lora_bias: true }, /^lora_bias is true/],
    ['use_dora', { use_dora: true }, /^use_dora is true/],
    ['modules_to_save', { modules_to_save: ['lm_head'] }, /^modules_to_save \["lm_head"\] is not supported/],
    ['rank_pattern', { rank_pattern: { q_proj: 4 } }, /^rank_pattern .* is not supported/],
    ['alpha_pattern', { alpha_pattern: { q_proj: 8 } }, /^alpha_pattern .* is not supported/],
    ['layer_replication', { layer_replication: [[0, 2], [1, 4]] }, /^layer_replication is not supported/],
    ['exclude_modules', { exclude_modules: ['k_proj'] }, /^exclude_modules \["k_proj"\] is not supported/],
    ['trainable_token_indices', { trainable_token_indices: [5, 6] }, /^trainable_token_indices \[5,6\] is not supported/],
    ['target_parameters', { target_parameters: ['mlp.experts.down_proj'] }, /^target_parameters .* is not supported/],
    ['alora_invocation_tokens', { alora_invocation_tokens: [1, 2] }, /^alora_invocation_tokens is set/],
    ['use_qalora', { use_qalora: true }, /^use_qalora is true/],
    ['arrow_config', { arrow_config: { top_k: 3 } }, /^arrow_config is set/],
    ['init_lora_weights "pissa"', { init_lora_weights: 'pissa' }, /^init_lora_weights "pissa" changed the base model's weights/],
    ['init_lora_weights "pissa_niter_4"', { init_lora_weights: 'pissa_niter_4' }, /^init_lora_weights "pissa_niter_4" changed the base model's weights/],
    ['init_lora_weights "olora"', { init_lora_weights: 'olora' }, /changed the base model's weights/],
    ['init_lora_weights "loftq"', { init_lora_weights: 'loftq' }, /changed the base model's weights/],
    ['init_lora_weights "corda"', { init_lora_weights: 'corda' }, /changed the base model's weights/],
    ['init_lora_weights "orthogonal"', { init_lora_weights: 'orthogonal' }, /changed the base model's weights/],
    ['init_lora_weights "lora_ga"', { init_lora_weights: 'lora_ga' }, /changed the base model's weights/],
    ['init_lora_weights "mica"', { init_lora_weights: 'mica' }, /^init_lora_weights "mica" is not supported/],
    ['layers_pattern "blocks" with layers_to_transform', { layers_to_transform: [0], layers_pattern: 'blocks' }, /^layers_pattern "blocks" is not supported/],
    ['task_type "SEQ_CLS" without the score head', { task_type: 'SEQ_CLS' }, /^task_type "SEQ_CLS" needs "score" in modules_to_save/],
    ['a score head on a language model\'s adapter', { modules_to_save: ['score'] }, /with task_type "CAUSAL_LM": a language model's adapter saves no head/],
    ['task_type "TOKEN_CLS"', { task_type: 'TOKEN_CLS' }, /^task_type "TOKEN_CLS" is not supported/],
  ];
  for (const [what, extra, why] of changing) {
    it(`refuses ${what}, saying why`, () => {
      const e = peftError(() => parseAdapterConfig(withFields(extra)));
      expect(e.problems).toHaveLength(1);
      expect(e.problems[0]).toMatch(why);
    });
  }
});

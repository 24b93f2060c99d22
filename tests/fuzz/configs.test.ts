// Fuzzing the config readers: adapter_config.json (parseAdapterConfig, then fitted to the default model
// by expectedAdapterTensors, with hostile target_modules patterns among the fields), a whole adapter
// import (readAdapterFiles + importAdapter on a .zip of a fuzzed config and fuzzed weights), and a
// model's config.json (parseModelConfig). Each ends within the budget in a result or its named error;
// a model config that parses has sizes the engine can allocate.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { architectureFor } from '../../src/lib/model/architecture';
import { MODEL_CONFIG_LIMITS, ModelConfigError, parseModelConfig } from '../../src/lib/model/config';
import { parseSafetensors, tensorBytes, writeSafetensors } from '../../src/lib/model/safetensors';
import { expectedAdapterTensors, importAdapter, parseAdapterConfig, PeftError, readAdapterFiles, writeZip, type BaseModel } from '../../src/lib/peft';
import { fuzzCase, noteAllocation, params } from './harness';
import { countInflated } from './inflate-meter';

const ROOT = resolve(import.meta.dirname, '../..');
const modelConfig = JSON.parse(readFileSync(resolve(ROOT, 'models/brown-llama-4m/config.json'), 'utf8'));
const base: BaseModel = { name: 'brown-llama-4m', config: parseModelConfig(modelConfig) };
const loraConfig = JSON.parse(readFileSync(resolve(ROOT, 'tests/fixtures/lora.json'), 'utf8'));
/** The recipe's LoRA weights for the default model (tests/fixtures/lora.safetensors without its gradients). */
const loraWeights = (() => {
  const st = parseSafetensors(readFileSync(resolve(ROOT, 'tests/fixtures/lora.safetensors')));
  const keep = st.tensors.filter((t) => t.name.includes('.lora_') && !t.name.endsWith('.grad'));
  return writeSafetensors(Object.fromEntries(keep.map((t) => [t.name, { dtype: t.dtype, shape: t.shape, data: tensorBytes(st, t.name) }])), { format: 'pt' });
})();

/** Regular expressions assembled from the parts that make engines backtrack, nest and refuse. */
const pattern = fc
  .array(
    fc.oneof(
      fc.constantFrom('.', '*', '+', '?', '|', '(', ')', '(?:', '[', ']', '^', '$', '\\', '\\d', '\\w', '\\Z', '\\1', '(?=', '(?!', '(?<=', '(?P<n>', '{2}', '{0,1000}', '{1000}', 'q_proj', 'layers', '\\.'),
      fc.string({ maxLength: 3 }),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));
const hostilePattern = fc.oneof(
  pattern,
  fc.constantFrom('(.|.)*Z', '(a+)+$', '(.*a){20}', '^(\\w+\\s?)*$', '(x+x+)+y', '.*'.repeat(200), 'a'.repeat(600), 'x{1000}'.repeat(12)),
  fc.integer({ min: 1, max: 40 }).map((n) => `${'('.repeat(n)}.*${')*'.repeat(n)}Z`),
);

const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(0, -1, 1.5, 1e308, '', 'all-linear', null, true, [], {}));
const loraFields = fc.record(
  {
    peft_type: fc.oneof(fc.constantFrom('LORA', 'PREFIX_TUNING', 'BOTTLENECK', 'IA3'), value),
    r: fc.oneof(fc.integer({ min: -2, max: 64 }), value),
    lora_alpha: fc.oneof(fc.integer({ min: -2, max: 64 }), value),
    lora_dropout: fc.oneof(fc.double({ min: -1, max: 2 }), value),
    target_modules: fc.oneof(hostilePattern, fc.array(fc.oneof(fc.constantFrom('q_proj', 'v_proj', 'c_attn'), fc.string({ maxLength: 8 })), { maxLength: 4 }), value),
    layers_to_transform: fc.oneof(fc.array(fc.integer({ min: -1, max: 10 }), { maxLength: 4 }), value),
    use_rslora: fc.oneof(fc.boolean(), value),
    bias: fc.oneof(fc.constantFrom('none', 'all'), value),
    init_lora_weights: fc.oneof(fc.constantFrom(true, false, 'gaussian', 'pissa', 'loftq'), value),
    num_virtual_tokens: fc.oneof(fc.integer({ min: -1, max: 64 }), value),
    num_layers: fc.oneof(fc.integer({ min: -1, max: 8 }), value),
    token_dim: fc.oneof(fc.constantFrom(128, 64, 0), value),
    num_attention_heads: fc.oneof(fc.constantFrom(2, 3, 0), value),
    bottleneck_size: fc.oneof(fc.integer({ min: -1, max: 64 }), value),
    placement: fc.oneof(fc.subarray(['self_attn', 'mlp', 'mlp', 'other']), value),
    non_linearity: fc.oneof(fc.constantFrom('relu', 'silu', 'tanh'), value),
  },
  { requiredKeys: [] },
);
/** adapter_config.json text: fuzzed fields over the recipe's config, or any JSON, or text that is not JSON. */
const configText = fc.oneof(
  // The recipe's config with only target_modules hostile: the pattern is compiled and matched against every module.
  hostilePattern.map((target_modules) => JSON.stringify({ ...loraConfig, target_modules })),
  // One field changed: mostly a config that still parses, so the rest of the path runs too.
  loraFields.filter((f) => Object.keys(f).length > 0).chain((f) => fc.constantFrom(...Object.entries(f))).map(([k, v]) => JSON.stringify({ ...loraConfig, [k]: v })),
  loraFields.map((f) => JSON.stringify({ ...loraConfig, ...f })),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 60 }),
  fc.integer({ min: 1000, max: 100_000 }).map((d) => JSON.stringify({ ...loraConfig, target_modules: '@' }).replace('"@"', `${'['.repeat(d)}${']'.repeat(d)}`)),
);

describe('adapter_config.json under fuzzing: an adapter config fitted to the model, or a PeftError, within the budget', () => {
  it('fields with hostile values, hostile target_modules patterns among them', async () => {
    await fc.assert(
      fc.asyncProperty(configText, async (text) => {
        await fuzzCase('adapter_config.json', text.length, () => expectedAdapterTensors(parseAdapterConfig(text), base), [PeftError]);
      }),
      params(1500),
    );
  });

  it('a whole adapter: a .zip of a fuzzed config and fuzzed weights, imported for the default model', async () => {
    const weights = fc.oneof(
      fc.constant(loraWeights),
      fc.tuple(fc.nat(), fc.nat({ max: 255 })).map(([at, v]) => {
        const w = loraWeights.slice();
        w[at % w.length] = v;
        return w;
      }),
      fc.uint8Array({ maxLength: 300 }),
      fc.dictionary(
        fc.oneof(fc.constantFrom('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', 'prompt_embeddings'), fc.string({ maxLength: 20 })),
        fc.record({ dtype: fc.constantFrom('F32', 'F16', 'I32'), shape: fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 2 }) }),
        { maxKeys: 4 },
      ).map((spec) =>
        writeSafetensors(
          Object.fromEntries(Object.entries(spec).map(([k, t]) => [k, { dtype: t.dtype as 'F32', shape: t.shape, data: new Uint8Array(t.shape.reduce((a, b) => a * b, 1) * (t.dtype === 'F16' ? 2 : 4)) }])),
        ),
      ),
    );
    await fc.assert(
      fc.asyncProperty(configText, weights, async (text, w) => {
        const zip = writeZip([
          { name: 'adapter_config.json', data: new TextEncoder().encode(text) },
          { name: 'adapter_model.safetensors', data: w },
        ]);
        const meter = countInflated();
        try {
          await fuzzCase('adapter import (.zip)', zip.length, async () => importAdapter(await readAdapterFiles([{ name: 'fuzz.zip', bytes: zip }], { base }), base), [PeftError]);
        } finally {
          meter.stop();
        }
        noteAllocation('adapter import (.zip)', meter.largest, zip.length);
      }),
      params(500),
    );
  });
});

const size = fc.oneof(fc.integer({ min: 1, max: 1024 }), fc.constantFrom(0, -1, 0.5, 1e12, 2 ** 53, Number.MAX_VALUE), fc.jsonValue({ maxDepth: 1 }));
const modelFields = fc.record(
  {
    model_type: fc.oneof(fc.constantFrom('llama', 'qwen2', 'gpt2', 'mistral', 'mamba'), fc.jsonValue({ maxDepth: 1 })),
    vocab_size: size,
    hidden_size: size,
    intermediate_size: size,
    num_hidden_layers: size,
    num_attention_heads: size,
    num_key_value_heads: size,
    head_dim: size,
    max_position_embeddings: size,
    rms_norm_eps: fc.oneof(fc.double(), fc.jsonValue({ maxDepth: 1 })),
    rope_theta: fc.oneof(fc.double(), fc.jsonValue({ maxDepth: 1 })),
    rope_scaling: fc.oneof(fc.constant(null), fc.jsonValue({ maxDepth: 3 })),
    hidden_act: fc.oneof(fc.constantFrom('silu', 'gelu'), fc.jsonValue({ maxDepth: 1 })),
    n_embd: size,
    n_head: size,
    n_layer: size,
    n_inner: size,
    n_positions: size,
    activation_function: fc.oneof(fc.constantFrom('gelu_new', 'relu', 'tanh'), fc.jsonValue({ maxDepth: 1 })),
    eos_token_id: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);

describe('config.json under fuzzing: a ModelConfig within the engine’s limits, or a ModelConfigError, within the budget', () => {
  it('fields with hostile values, any JSON, and text that is not JSON', async () => {
    const text = fc.oneof(
      // One field changed over the default model's config: mostly a config that still parses.
      modelFields.filter((f) => Object.keys(f).length > 0).chain((f) => fc.constantFrom(...Object.entries(f))).map(([k, v]) => JSON.stringify({ ...modelConfig, [k]: v })),
      modelFields.map((f) => JSON.stringify({ ...modelConfig, ...f })),
      modelFields.map((f) => JSON.stringify(f)),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 60 }),
    );
    await fc.assert(
      fc.asyncProperty(text, async (t) => {
        const r = await fuzzCase('model config.json', t.length, () => parseModelConfig(t), [ModelConfigError]);
        if (!r.ok) return;
        const c = r.value;
        for (const [k, max] of [
          ['vocabSize', MODEL_CONFIG_LIMITS.vocabSize],
          ['hidden', MODEL_CONFIG_LIMITS.hidden],
          ['layers', MODEL_CONFIG_LIMITS.layers],
          ['heads', MODEL_CONFIG_LIMITS.heads],
          ['intermediate', MODEL_CONFIG_LIMITS.intermediate],
          ['maxPositions', MODEL_CONFIG_LIMITS.maxPositions],
        ] as const) {
          expect(Number.isInteger(c[k]) && c[k] >= 1 && c[k] <= max, `${k} = ${c[k]}`).toBe(true);
        }
        expect(Number.isInteger(c.headDim) && c.headDim >= 1).toBe(true);
        expect(c.heads % c.kvHeads).toBe(0);
        // The engine's parameter table follows from it.
        expect(architectureFor(c).params.length).toBeGreaterThan(0);
      }),
      params(1500),
    );
  });
});

// A new model's config.json, initial weights, exported folder, general-text rows and the memory refusal.
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/lib/model/config.ts';
import { parseSafetensors, tensorToFloat32 } from '../../src/lib/model/safetensors.ts';
import { architectureFor } from '../../src/lib/model/architecture.ts';
import { architectureProblems, initialWeights, llamaConfigJson, newModelFiles, parameterCount, PRESETS, PRESET_NAMES, SHIPPED_TOKENIZER } from '../../src/lib/pretrain/create.ts';
import { modelFolderFiles } from '../../src/lib/pretrain/folder.ts';
import { generalTextRows } from '../../src/lib/pretrain/general.ts';
import { estimateTrainingMemory, memoryProblem } from '../../src/lib/train/memory.ts';
import { IGNORE_INDEX } from '../../src/lib/data/pack.ts';

describe('new model', () => {
  it('presets are the sizes they are named for, and the engine reads their config.json', () => {
    const counts = PRESET_NAMES.map((n) => parameterCount(PRESETS[n]));
    const named = [0.1e6, 0.5e6, 1e6, 4e6];
    counts.forEach((c, i) => expect(Math.abs(c - named[i]) / named[i]).toBeLessThan(0.2));
    // '4m' is the shipped model's architecture: 3,950,848 parameters (its model card)
    expect(parameterCount(PRESETS['4m'])).toBe(3_950_848);
    for (const n of PRESET_NAMES) {
      const cfg = parseModelConfig(llamaConfigJson(PRESETS[n], SHIPPED_TOKENIZER, 0.02));
      const arch = architectureFor(cfg);
      expect(arch.params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0)).toBe(parameterCount(PRESETS[n]));
    }
  });

  it('draws normal(0, initializer_range) weights and unit norms, the same for the same seed', () => {
    const a = PRESETS['0.1m'];
    const w = initialWeights(a, 4096, 7, 0.05);
    const emb = w.get('model.embed_tokens.weight')!.data as Float32Array;
    const mean = emb.reduce((s, x) => s + x, 0) / emb.length;
    const std = Math.sqrt(emb.reduce((s, x) => s + (x - mean) ** 2, 0) / emb.length);
    expect(Math.abs(mean)).toBeLessThan(0.002);
    expect(Math.abs(std - 0.05) / 0.05).toBeLessThan(0.02);
    expect([...(w.get('model.norm.weight')!.data as Float32Array)].every((x) => x === 1)).toBe(true);
    expect(w.has('lm_head.weight')).toBe(false); // tied to the embedding
    const again = initialWeights(a, 4096, 7, 0.05).get('model.layers.1.mlp.down_proj.weight')!.data as Float32Array;
    const other = initialWeights(a, 4096, 8, 0.05).get('model.layers.1.mlp.down_proj.weight')!.data as Float32Array;
    expect(again).toEqual(w.get('model.layers.1.mlp.down_proj.weight')!.data);
    expect(again).not.toEqual(other);
  });

  it('refuses an architecture it cannot build, naming each problem', () => {
    expect(architectureProblems({ layers: 2, hidden: 30, heads: 4, kvHeads: 3, intermediate: 64, context: 64 })).toEqual([
      'width 30 is not a multiple of heads 4',
      'heads 4 is not a multiple of key/value heads 3',
    ]);
    expect(architectureProblems({ layers: 2, hidden: 36, heads: 4, kvHeads: 2, intermediate: 64, context: 64 })).toEqual([
      'the head size 9 (width / heads) must be even for rotary positions',
    ]);
    expect(() => newModelFiles({ architecture: { ...PRESETS['0.1m'], layers: 0 }, seed: 0 })).toThrow(/layers must be a whole number from 1 to 64, got 0/);
    expect(() => newModelFiles({ architecture: PRESETS['0.1m'], seed: 0, initializerRange: 0 })).toThrow(/initializer_range must be above 0/);
  });

  it('writes a Hugging Face folder whose weights read back as given', () => {
    const files = newModelFiles({ architecture: PRESETS['0.1m'], seed: 3 });
    const st = parseSafetensors(files.weights[0] as Uint8Array, { source: 'init' });
    const weights = new Map(st.tensors.map((t) => [t.name, { shape: [...t.shape], data: tensorToFloat32(st, t.name) }]));
    const folder = modelFolderFiles(weights, { config: files.config, generationConfig: files.generationConfig, tokenizer: [{ name: 'tokenizer.json', data: '{}' }] });
    expect(folder.map((f) => f.name)).toEqual(['config.json', 'model.safetensors', 'generation_config.json', 'tokenizer.json']);
    const back = parseSafetensors(folder[1].data as Uint8Array, { source: 'export' });
    const differing = st.tensors.filter((t) => {
      const [x, y] = [tensorToFloat32(back, t.name), tensorToFloat32(st, t.name)];
      return x.length !== y.length || x.some((v, i) => v !== y[i]);
    });
    expect(differing.map((t) => t.name)).toEqual([]);
    expect(back.tensors.length).toBe(st.tensors.length);
    expect(JSON.parse(folder[0].data as string)).toMatchObject({ model_type: 'llama', tie_word_embeddings: true, initializer_range: 0.02 });
  });
});

describe('general text', () => {
  const tok = { encode: (t: string) => [...t].map((c) => c.charCodeAt(0)), decode: (ids: number[]) => String.fromCharCode(...ids), bosIds: [], eosId: 1, padId: 0 };
  it('packs paragraphs end to end, every position counted, at most the tokens asked for', () => {
    const text = Array.from({ length: 50 }, (_, i) => `paragraph ${i} of plain prose.`).join('\n\n');
    const rows = generalTextRows(text, tok, 16, 100);
    expect(rows.rows).toBe(6); // floor(100 / 16)
    expect(rows.countedTokens).toBe(6 * 16);
    expect([...rows.targets].every((t) => t !== IGNORE_INDEX)).toBe(true);
    expect(rows.inputIds[1]).toBe('a'.charCodeAt(0));
    expect(() => generalTextRows('\n\n  \n', tok, 16)).toThrow('the general text is empty');
  });
});

describe('memory', () => {
  it('refuses full fine-tuning that does not fit, with the numbers', () => {
    const cfg = parseModelConfig(llamaConfigJson(PRESETS['4m'], SHIPPED_TOKENIZER, 0.02));
    const e = estimateTrainingMemory(cfg, { peft_type: 'FULL' }, 8, 128);
    expect(e.trainable).toBe(16 * 3_950_848);
    expect(memoryProblem(e, e.total, { peft_type: 'FULL' })).toBeNull();
    const refusal = memoryProblem(e, 64 * 1024 ** 2, { peft_type: 'FULL' });
    expect(refusal).toMatch(/^full fine-tuning needs weights 15 MiB \+ trainable weights, gradients and AdamW moments 60 MiB \+ activations \d+ MiB = \d+ MiB, more than the 64 MiB/);
  });
});

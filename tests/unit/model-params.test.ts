import { describe, expect, it } from 'vitest';
import { ALIGN_ELEMENTS, layoutParams } from '../../src/lib/model/params';
import { architectureFor } from '../../src/lib/model/architecture';
import { parseModelConfig } from '../../src/lib/model/config';
import { transpose2d } from '../../src/lib/model/weights';

describe('layoutParams (the parameter table)', () => {
  it('packs tensors in order, 256-byte aligned, into as few buffers as fit', () => {
    const l = layoutParams([{ name: 'a', shape: [3, 5] }, { name: 'b', shape: [7] }, { name: 'c', shape: [10, 10] }], 1 << 20);
    expect(l.bufferSizes).toHaveLength(1);
    const offs = ['a', 'b', 'c'].map((n) => l.entries.get(n)!.chunks[0].offset);
    expect(offs).toEqual([0, ALIGN_ELEMENTS, 2 * ALIGN_ELEMENTS]);
    expect(l.bufferSizes[0]).toBeGreaterThanOrEqual(2 * ALIGN_ELEMENTS + 100);
  });

  it('starts a new buffer when the next tensor does not fit', () => {
    const l = layoutParams([{ name: 'a', shape: [200] }, { name: 'b', shape: [200] }], 256 * 4);
    expect(l.entries.get('a')!.chunks[0].buffer).toBe(0);
    expect(l.entries.get('b')!.chunks[0].buffer).toBe(1);
  });

  it('splits a tensor bigger than a buffer into chunks of whole rows that cover it exactly', () => {
    const l = layoutParams([{ name: 'wte', shape: [1000, 96] }], 64 * 1024);
    const e = l.entries.get('wte')!;
    expect(e.chunks.length).toBe(Math.ceil(1000 / Math.floor(16384 / 96)));
    let row = 0;
    for (const c of e.chunks) {
      expect(c.rowStart).toBe(row);
      expect(c.size).toBe(c.rows * 96);
      expect(c.size * 4).toBeLessThanOrEqual(64 * 1024);
      expect(c.offset % ALIGN_ELEMENTS).toBe(0);
      row += c.rows;
    }
    expect(row).toBe(1000);
    expect(l.bufferSizes.every((s) => s * 4 <= 64 * 1024)).toBe(true);
  });

  it('keeps requested row blocks separately aligned (GPT-2 c_attn: q | k | v)', () => {
    const l = layoutParams([{ name: 'x', shape: [3] }, { name: 'c_attn', shape: [3 * 10, 10], chunkRows: 10 }], 1 << 20);
    const e = l.entries.get('c_attn')!;
    expect(e.chunks.map((c) => c.rowStart)).toEqual([0, 10, 20]);
    for (const c of e.chunks) expect(c.offset % ALIGN_ELEMENTS).toBe(0);
  });

  it('refuses duplicates and rows that can never fit', () => {
    expect(() => layoutParams([{ name: 'a', shape: [1] }, { name: 'a', shape: [1] }], 1024)).toThrow(/duplicate/);
    expect(() => layoutParams([{ name: 'a', shape: [2, 1000] }], 1024)).toThrow(/one row/);
  });
});

describe('architectures', () => {
  it('lists Llama parameters with Hugging Face names, untied lm_head only when untied', () => {
    const cfg = parseModelConfig({ model_type: 'llama', hidden_size: 8, intermediate_size: 16, num_attention_heads: 2, num_key_value_heads: 1, num_hidden_layers: 2, vocab_size: 10, tie_word_embeddings: true });
    const arch = architectureFor(cfg);
    const names = arch.params.map((p) => p.name);
    expect(names).toContain('model.layers.1.self_attn.k_proj.weight');
    expect(arch.params.find((p) => p.name === 'model.layers.0.self_attn.k_proj.weight')!.shape).toEqual([4, 8]);
    expect(names).not.toContain('lm_head.weight');
    expect(arch.lmHead).toBe('model.embed_tokens.weight');
    const untied = architectureFor({ ...cfg, tieEmbeddings: false });
    expect(untied.params.map((p) => p.name)).toContain('lm_head.weight');
  });

  it('maps GPT-2 Conv1D weights to (out,in) and accepts checkpoints without the transformer. prefix', () => {
    const cfg = parseModelConfig({ model_type: 'gpt2', n_embd: 8, n_head: 2, n_layer: 1, vocab_size: 10, n_positions: 16 });
    const arch = architectureFor(cfg);
    const attn = arch.params.find((p) => p.name === 'transformer.h.0.attn.c_attn.weight')!;
    expect(attn.shape).toEqual([24, 8]);
    expect(attn.chunkRows).toBe(8);
    expect(arch.source('transformer.h.0.mlp.c_fc.weight')).toEqual({ names: ['transformer.h.0.mlp.c_fc.weight', 'h.0.mlp.c_fc.weight'], transposed: true });
    expect(arch.source('transformer.h.0.ln_1.weight').transposed).toBe(false);
    expect([arch.layers[0].q.block, arch.layers[0].k.block, arch.layers[0].v.block]).toEqual([0, 1, 2]);
  });

  it('transpose2d swaps rows and columns', () => {
    expect(Array.from(transpose2d(Float32Array.of(1, 2, 3, 4, 5, 6), 2, 3))).toEqual([1, 4, 2, 5, 3, 6]);
  });
});

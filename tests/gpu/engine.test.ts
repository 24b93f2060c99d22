// The engine facade on a tiny model: export/import of trainable weights, checkpoint and restore
// (training continues bit for bit), LoRA merged for generation, generation on the KV cache agreeing
// with full forward passes (prefix tuning included), seeded sampling, and the base weights never
// changing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { createRng } from '../../src/lib/random.ts';
import { Engine, type Batch, type GenerateOptions, type MethodConfig } from '../../src/lib/engine.ts';
import { argmax } from '../../src/lib/generate/sampling.ts';
import { defaultTrainConfig } from '../../src/lib/train/config.ts';
import { collect, FIXTURES, maxAbsDiff, modelFiles } from './fixtures.ts';

const gpu = useGpu();
let engine: Engine;
beforeAll(async () => {
  // f32 storage (the BF16 fixture would load as f16): generation merges LoRA only into an f32 base, and
  // the merge test below is about that (an f16 base generates unmerged: weights-f16.test.ts).
  engine = await Engine.load(modelFiles(join(FIXTURES, 'tiny-smollm2')), { gpu: gpu(), weightDtype: 'f32' });
});
afterAll(() => engine?.destroy());

const LORA: MethodConfig = {
  peft_type: 'LORA',
  r: 4,
  lora_alpha: 8,
  lora_dropout: 0,
  target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  use_rslora: false,
  layers_to_transform: null,
};
const BOTTLENECK = (non_linearity: 'relu' | 'silu'): MethodConfig => ({ peft_type: 'BOTTLENECK', bottleneck_size: 8, non_linearity, placement: ['self_attn', 'mlp'] });
const CONSTANT = { ...defaultTrainConfig(), learning_rate: 1e-2, warmup_steps: 0, max_steps: 10, lr_scheduler_type: 'constant' as const };

const generateAll = (prompt: number[], opts: GenerateOptions) => collect(engine.generate(prompt, opts));

function batch(seed: number): Batch {
  const rand = createRng(seed);
  const V = engine.config.vocabSize;
  const B = 2;
  const T = 16;
  return {
    B, T,
    ids: Int32Array.from({ length: B * T }, () => Math.floor(rand() * V)),
    targets: Int32Array.from({ length: B * T }, (_, i) => (i % 5 === 0 ? -100 : Math.floor(rand() * V))),
  };
}

/** Non-zero values for every trainable tensor, so adapters change the output. */
async function randomize(seed: number): Promise<void> {
  const rand = createRng(seed);
  const w = await engine.exportWeights();
  for (const t of w.values()) t.data = t.data.map(() => (rand() - 0.5) * 0.3);
  engine.importWeights(w);
}

describe('engine', () => {
  it('exports PEFT tensors and imports them back exactly; refuses foreign or missing keys', async () => {
    engine.attach(LORA, 1);
    await randomize(2);
    const a = await engine.exportWeights();
    expect([...a.keys()]).toContain('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight');
    engine.attach(LORA, 3);
    engine.importWeights(a);
    const b = await engine.exportWeights();
    for (const [k, t] of a) expect(Array.from(b.get(k)!.data)).toEqual(Array.from(t.data));
    const extra = new Map(a).set('base_model.model.nothing.lora_A.weight', { shape: [1], data: new Float32Array(1) });
    expect(() => engine.importWeights(extra)).toThrow(/not a parameter/);
    const missing = new Map([...a].slice(1));
    expect(() => engine.importWeights(missing)).toThrow(/missing/);
  });

  it('freshly initialised LoRA and bottleneck adapters reproduce the base logits bit for bit', async () => {
    const b = batch(10);
    engine.detach();
    const base = await engine.logits(b.ids, b.B, b.T);
    for (const method of [LORA, BOTTLENECK('relu')]) {
      engine.attach(method, 11);
      expect(Array.from(await engine.logits(b.ids, b.B, b.T))).toEqual(Array.from(base));
    }
  });

  it('checkpoint/restore resumes training exactly', async () => {
    engine.attach(LORA, 4);
    engine.startTraining(CONSTANT);
    await engine.trainStep([batch(1)], 1e-2);
    await engine.trainStep([batch(2)], 1e-2);
    const ckpt = await engine.checkpoint();
    expect(ckpt.step).toBe(2);
    const r1 = await engine.trainStep([batch(3), batch(4)], 1e-2); // with gradient accumulation
    const w1 = await engine.exportWeights();
    engine.restore(ckpt, CONSTANT);
    expect(engine.step).toBe(2);
    const r2 = await engine.trainStep([batch(3), batch(4)], 1e-2);
    const w2 = await engine.exportWeights();
    expect(r2.loss).toBe(r1.loss);
    for (const [k, t] of w1) expect(Array.from(w2.get(k)!.data)).toEqual(Array.from(t.data));
    // A fresh run restored from the checkpoint as ArrayBuffers (what the worker persists).
    const copy = structuredClone(ckpt);
    engine.detach();
    engine.restore(copy, CONSTANT);
    const r3 = await engine.trainStep([batch(3), batch(4)], 1e-2);
    expect(r3.loss).toBe(r1.loss);
    engine.endTraining();
  });

  it('generation merges LoRA into copies of the weights: same logits within 1e-4, base untouched, unmerged again for training', async () => {
    const before = await engine.model.base.readAll();
    engine.attach(LORA, 5);
    await randomize(6);
    const b = batch(7);
    const branch = await engine.logits(b.ids, b.B, b.T);
    engine.detach();
    const base = await engine.logits(b.ids, b.B, b.T);
    expect(maxAbsDiff(branch, base)).toBeGreaterThan(1e-2); // the adapter does something
    engine.attach(LORA, 5);
    await randomize(6);
    expect(engine.model.merged).toBeNull();
    await generateAll([1, 2, 3], { maxNewTokens: 2, stopTokens: [] });
    expect(engine.model.merged).not.toBeNull();
    const merged = await engine.logits(b.ids, b.B, b.T);
    const err = maxAbsDiff(merged, branch);
    console.log(`merged vs LoRA branch: max |Δlogits| = ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-4);
    engine.startTraining(CONSTANT);
    expect(engine.model.merged).toBeNull();
    expect(Array.from(await engine.logits(b.ids, b.B, b.T))).toEqual(Array.from(branch));
    engine.endTraining();
    const after = await engine.model.base.readAll();
    expect(Buffer.from(after.buffer).equals(Buffer.from(before.buffer))).toBe(true);
  });

  const methods: [string, MethodConfig][] = [
    ['lora', LORA],
    ['prefix', { peft_type: 'PREFIX_TUNING', num_virtual_tokens: 5 }],
    ['bottleneck', BOTTLENECK('silu')],
  ];
  it.each(methods)('KV-cache generation with %s equals greedy over full forward passes', async (_, cfg) => {
    engine.attach(cfg, 8);
    await randomize(9);
    const prompt = [5, 17, 42, 7, 99, 3];
    const { tokens } = await generateAll(prompt, { maxNewTokens: 10, stopTokens: [] });
    const seq = [...prompt];
    const V = engine.config.vocabSize;
    for (let i = 0; i < 10; i++) {
      const logits = await engine.logits(Int32Array.from(seq), 1, seq.length);
      seq.push(argmax(logits.subarray((seq.length - 1) * V, seq.length * V)));
    }
    expect(tokens).toEqual(seq.slice(prompt.length));
  });

  it('sampling is reproducible from its seed and stops at a stop token', async () => {
    engine.detach();
    const prompt = [5, 17, 42];
    const sampling = { temperature: 1.5, topK: 50, topP: 0.95, seed: 11 };
    const a = await generateAll(prompt, { maxNewTokens: 12, sampling, stopTokens: [] });
    const b = await generateAll(prompt, { maxNewTokens: 12, sampling, stopTokens: [] });
    const c = await generateAll(prompt, { maxNewTokens: 12, sampling: { ...sampling, seed: 12 }, stopTokens: [] });
    expect(a.tokens).toEqual(b.tokens);
    expect(a.tokens).not.toEqual(c.tokens);
    expect(a.stop).toBe('length');
    const stopAt = a.tokens[4];
    const d = await generateAll(prompt, { maxNewTokens: 12, sampling, stopTokens: [stopAt] });
    expect(d.stop).toBe('eos');
    expect(d.tokens).toEqual(a.tokens.slice(0, a.tokens.indexOf(stopAt) + 1));
  });
});

// The engine facade on a tiny model: export/import of trainable weights, checkpoint and restore
// (training continues bit for bit), LoRA merge/unmerge, generation on the KV cache agreeing with
// full forward passes (prefix tuning included), seeded sampling, and the base weights never changing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { createRng } from '../../src/lib/random.ts';
import { Engine, type Batch } from '../../src/lib/engine.ts';
import { argmax } from '../../src/lib/generate/sampling.ts';
import { FIXTURES, maxAbsDiff, modelFiles } from './fixtures.ts';

const gpu = useGpu();
let engine: Engine;
beforeAll(async () => {
  engine = await Engine.load(modelFiles(join(FIXTURES, 'tiny-smollm2')), { gpu: gpu() });
});
afterAll(() => engine?.destroy());

const LORA = { method: 'lora' as const, r: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], useRslora: false };

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
    for (const method of [LORA, { method: 'bottleneck' as const, size: 8, nonlinearity: 'relu' as const, afterAttention: true, afterMlp: true }]) {
      engine.attach(method, 11);
      expect(Array.from(await engine.logits(b.ids, b.B, b.T))).toEqual(Array.from(base));
    }
  });

  it('checkpoint/restore resumes training exactly', async () => {
    engine.attach(LORA, 4);
    engine.startTraining({ learningRate: 1e-2, warmupSteps: 0, maxSteps: 10, schedule: 'constant' });
    await engine.trainStep([batch(1)]);
    await engine.trainStep([batch(2)]);
    const ckpt = await engine.checkpoint();
    expect(ckpt.step).toBe(2);
    const r1 = await engine.trainStep([batch(3), batch(4)]); // with gradient accumulation
    const w1 = await engine.exportWeights();
    engine.restore(ckpt);
    expect(engine.step).toBe(2);
    const r2 = await engine.trainStep([batch(3), batch(4)]);
    const w2 = await engine.exportWeights();
    expect(r2.loss).toBe(r1.loss);
    for (const [k, t] of w1) expect(Array.from(w2.get(k)!.data)).toEqual(Array.from(t.data));
    // A fresh run restored from the checkpoint as ArrayBuffers (what the worker persists).
    const copy = structuredClone(ckpt);
    engine.detach();
    engine.restore(copy, { learningRate: 1e-2, warmupSteps: 0, maxSteps: 10, schedule: 'constant' });
    const r3 = await engine.trainStep([batch(3), batch(4)]);
    expect(r3.loss).toBe(r1.loss);
    engine.endTraining();
  });

  it('train() runs steps with progress and lowers the loss on a repeated batch; abort stops it', async () => {
    engine.attach(LORA, 12);
    engine.startTraining({ learningRate: 2e-2, warmupSteps: 0, maxSteps: 6, schedule: 'constant' });
    const seen: number[] = [];
    const b = batch(13);
    const r = await engine.train(() => [b], { steps: 6, onStep: (s) => seen.push(s.loss) });
    expect(r).toEqual({ steps: 6, stopped: 'done' });
    expect(seen).toHaveLength(6);
    expect(seen[5]).toBeLessThan(seen[0]);
    const ctl = new AbortController();
    ctl.abort();
    expect(await engine.train(() => [b], { steps: 10, signal: ctl.signal })).toEqual({ steps: 6, stopped: 'aborted' });
    engine.endTraining();
  });

  it('merged LoRA gives the same logits; unmerging restores them; the base never changes', async () => {
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
    engine.mergeLora();
    const merged = await engine.logits(b.ids, b.B, b.T);
    const err = maxAbsDiff(merged, branch);
    console.log(`merged vs LoRA branch: max |Δlogits| = ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-4);
    engine.unmergeLora();
    expect(Array.from(await engine.logits(b.ids, b.B, b.T))).toEqual(Array.from(branch));
    const after = await engine.model.base.readAll();
    expect(Buffer.from(after.buffer).equals(Buffer.from(before.buffer))).toBe(true);
  });

  it.each(['lora', 'prefix', 'bottleneck'] as const)('KV-cache generation with %s equals greedy over full forward passes', async (method) => {
    const cfg = method === 'lora' ? LORA : method === 'prefix' ? { method, numVirtualTokens: 5 } : { method, size: 8, nonlinearity: 'silu' as const, afterAttention: true, afterMlp: true };
    engine.attach(cfg, 8);
    await randomize(9);
    const prompt = [5, 17, 42, 7, 99, 3];
    const { tokens } = await engine.generateAll(prompt, { maxNewTokens: 10, stopTokens: [] });
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
    const a = await engine.generateAll(prompt, { maxNewTokens: 12, sampling, stopTokens: [] });
    const b = await engine.generateAll(prompt, { maxNewTokens: 12, sampling, stopTokens: [] });
    const c = await engine.generateAll(prompt, { maxNewTokens: 12, sampling: { ...sampling, seed: 12 }, stopTokens: [] });
    expect(a.tokens).toEqual(b.tokens);
    expect(a.tokens).not.toEqual(c.tokens);
    expect(a.stop).toBe('length');
    const stopAt = a.tokens[4];
    const d = await engine.generateAll(prompt, { maxNewTokens: 12, sampling, stopTokens: [stopAt] });
    expect(d.stop).toBe('stop-token');
    expect(d.tokens).toEqual(a.tokens.slice(0, a.tokens.indexOf(stopAt) + 1));
  });
});

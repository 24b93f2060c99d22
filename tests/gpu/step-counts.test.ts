// Counted, not timed: what one LoRA training step on the default model asks of the GPU API. In steady
// state (the same batch shape again) a step creates no bind group — they are cached with the buffers
// they bind — and pushes at most one error scope per command buffer it submits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { createRng } from '../../src/lib/random.ts';
import { Engine, type Batch } from '../../src/lib/engine.ts';
import { defaultMethod, defaultTrainConfig } from '../../src/lib/train/config.ts';
import { DEFAULT_MODEL, modelFiles } from './fixtures.ts';

const gpu = useGpu();
let engine: Engine;
beforeAll(async () => {
  engine = await Engine.load(modelFiles(DEFAULT_MODEL), { gpu: gpu() });
});
afterAll(() => engine?.destroy());

function batch(seed: number, B: number, T: number): Batch {
  const rand = createRng(seed);
  const V = engine.config.vocabSize;
  return {
    B,
    T,
    ids: Int32Array.from({ length: B * T }, () => Math.floor(rand() * V)),
    targets: Int32Array.from({ length: B * T }, () => Math.floor(rand() * V)),
  };
}

describe('GPU calls per LoRA training step (default model)', () => {
  it('a steady-state step creates no bind groups and pushes at most one error scope per command buffer', async () => {
    const B = 2;
    const T = 32;
    engine.attach(defaultMethod('LORA'), 0);
    const cfg = { ...defaultTrainConfig('LORA'), per_device_train_batch_size: B, max_length: T };
    engine.startTraining(cfg);
    const counters = engine.gpu.counters;
    const counted = async (seed: number) => {
      const before = counters.snapshot();
      await engine.trainStep([batch(seed, B, T)], cfg.learning_rate);
      return counters.since(before);
    };
    const first = await counted(1);
    const second = await counted(2);
    console.log(`counts per step (B=${B}, T=${T}): first ${JSON.stringify(first)}, second ${JSON.stringify(second)}`);
    // Same work each step (the first also compiles pipelines and makes the bind groups).
    expect(first.dispatches).toBeGreaterThan(0);
    expect(second.dispatches).toBe(first.dispatches);
    expect(second.commandBuffers).toBe(first.commandBuffers);
    expect(first.bindGroups).toBeGreaterThan(0);
    expect(second.bindGroups).toBe(0);
    expect(second.errorScopes).toBeGreaterThan(0);
    expect(second.errorScopes).toBeLessThanOrEqual(second.commandBuffers);
    // gpu.trace (what `npm run bench` breaks a step down with) sees every dispatch the step encodes.
    const traced: string[] = [];
    engine.gpu.trace = (d) => traced.push(d.kernel.name);
    const third = await counted(3);
    engine.gpu.trace = null;
    expect(traced).toHaveLength(third.dispatches);
    expect(traced).toContain('adamw');
    expect(traced).toContain('matmul_gemm');
    engine.endTraining();
  });
});

// A full-size model in the engine without the Hub: SmolLM2-135M's real config, shapes and BF16 file
// size with random weights (tests/helpers/full-size.ts), made at test time, served in the Hub's
// layout, loaded by the engine, then one forward and one LoRA training step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { startHubServer, type HubServer } from '../e2e/hub-server.ts';
import { SMOLLM2_135M, writeFullSizeCheckpoint } from '../helpers/full-size.ts';
import { createRng } from '../../src/lib/random.ts';
import { Engine } from '../../src/lib/engine.ts';
import { fetchReader, readModelFiles } from '../../src/lib/model/files.ts';
import { defaultMethod, defaultTrainConfig } from '../../src/lib/train/config.ts';
import { layoutParams } from '../../src/lib/model/params.ts';
import { maxBufferBytes } from '../../src/lib/model/weights.ts';

const REPO = 'HuggingFaceTB/SmolLM2-135M';
const gpu = useGpu();
let dir: string;
let hub: HubServer;
let fileBytes: number;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'full-size-'));
  fileBytes = writeFullSizeCheckpoint(dir, SMOLLM2_135M, 1);
  hub = await startHubServer(REPO, dir);
});
afterAll(async () => {
  await hub?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('SmolLM2-135M at full size (random weights)', () => {
  it('loads from a Hub-layout server, runs a forward and one LoRA step', async () => {
    // 134.5M parameters in BF16: the real file is 269 MB.
    expect(fileBytes).toBeGreaterThan(268e6);
    expect(fileBytes).toBeLessThan(270e6);
    const t0 = performance.now();
    const files = await readModelFiles(fetchReader(`${hub.url}${REPO}/resolve/main/`), REPO);
    const engine = await Engine.load(files, { gpu: gpu() });
    const loadMs = performance.now() - t0;
    console.log(`loaded in ${(loadMs / 1000).toFixed(1)} s`);
    try {
      expect(engine.parameters).toBe(134_515_008);
      // A BF16 checkpoint stores its weight matrices as f16 by default: every 2-D base tensor is f16,
      // and the base store holds about half the bytes the all-f32 layout of the same tensors would.
      const base = engine.model.base;
      const entries = [...base.layout.entries.values()];
      expect(entries.filter((e) => e.shape.length === 2).every((e) => e.dtype === 'f16')).toBe(true);
      expect(entries.filter((e) => e.shape.length !== 2).every((e) => e.dtype === 'f32')).toBe(true);
      const f32Bytes = layoutParams(engine.model.arch.params, maxBufferBytes(gpu())).bufferSizes.reduce((a, b) => a + b * 4, 0);
      console.log(`SmolLM2-135M base weights: ${base.bytes} bytes stored f16, ${f32Bytes} bytes as f32 (ratio ${(base.bytes / f32Bytes).toFixed(4)})`);
      expect(base.bytes).toBeLessThan(0.501 * f32Bytes);
      expect(base.bytes).toBeGreaterThanOrEqual(0.5 * f32Bytes);
      const V = engine.config.vocabSize;
      const B = 1;
      const T = 16;
      const rand = createRng(2);
      const ids = Int32Array.from({ length: B * T }, () => Math.floor(rand() * V));
      const t1 = performance.now();
      const logits = await engine.model.logits(ids, B, T);
      const forwardMs = performance.now() - t1;
      expect(logits.length).toBe(B * T * V);
      expect(logits.every(Number.isFinite)).toBe(true);
      console.log(`forward in ${(forwardMs / 1000).toFixed(1)} s`);

      engine.attach(defaultMethod('LORA'), 0);
      const cfg = { ...defaultTrainConfig('LORA'), per_device_train_batch_size: B, max_length: T };
      engine.startTraining(cfg);
      const targets = Int32Array.from({ length: B * T }, () => Math.floor(rand() * V));
      const t2 = performance.now();
      const r = await engine.trainStep([{ B, T, ids, targets }], cfg.learning_rate);
      const stepMs = performance.now() - t2;
      console.log(
        `SmolLM2-135M: ${(fileBytes / 1e6).toFixed(0)} MB BF16, load ${(loadMs / 1000).toFixed(1)} s, engine GPU bytes ${engine.gpuBytes}; ` +
          `forward ${B}x${T} ${forwardMs.toFixed(0)} ms (first, pipelines compile), LoRA step ${stepMs.toFixed(0)} ms; loss ${r.loss.toFixed(4)} (ln V ${Math.log(V).toFixed(4)}), grad norm ${r.gradNorm.toExponential(2)}`,
      );
      expect(r.nonfinite).toBe(false);
      // Small random weights give nearly uniform predictions: the loss starts near ln V.
      expect(Math.abs(r.loss - Math.log(V))).toBeLessThan(0.5);
      expect(r.gradNorm).toBeGreaterThan(0);
      expect(r.tokens).toBe(B * T);
      engine.endTraining();
    } finally {
      engine.destroy();
    }
    // A 135M-parameter model on a CPU-backed adapter (SwiftShader) takes minutes.
  }, 1_500_000);
});

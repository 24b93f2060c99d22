// Full-size models in the engine without the Hub: a real config, shapes and file dtype and size with
// random weights (tests/helpers/full-size.ts), made at test time, served in the Hub's layout, loaded
// by the engine, then one forward and one LoRA training step. Two architectures:
//   - SmolLM2-135M (Llama, GQA, tied; BF16 file): its weight matrices are stored f16 on the GPU;
//   - GPT-2 (LayerNorm, learned positions, Conv1D weights stored (in,out); F32 file): stored f32, and
//     its tied 50,257 × 768 embedding (154 MB) is larger than a 128 MiB binding, so the lm_head runs
//     in row chunks at its real size.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { startHubServer, type HubServer } from '../e2e/hub-server.ts';
import { FULL_SIZE, SMOLLM2_135M, writeFullSizeCheckpoint } from '../helpers/full-size.ts';
import { createRng } from '../../src/lib/random.ts';
import { Engine } from '../../src/lib/engine.ts';
import { fetchReader, readModelFiles } from '../../src/lib/model/files.ts';
import { defaultMethod, defaultTrainConfig } from '../../src/lib/train/config.ts';
import { layoutParams } from '../../src/lib/model/params.ts';
import { maxBufferBytes } from '../../src/lib/model/weights.ts';

const gpu = useGpu();

/** WebGPU's guaranteed maxStorageBufferBindingSize: what a page can count on. */
const BINDING_128_MIB = 128 * 1024 ** 2;

interface Case {
  name: string;
  repo: string;
  config: Record<string, unknown>;
  params: number;
  /** the real model.safetensors' size, ± 1 MB */
  fileBytes: number;
  /** storage of the 2-D base tensors on the GPU */
  weights: 'f16' | 'f32';
  /** bytes per binding the engine may use (default: the device's own limit) */
  maxBufferBytes?: number;
  /** a base tensor that must be stored in more than one row chunk */
  chunked?: string;
}

const CASES: Case[] = [
  { name: 'SmolLM2-135M', repo: 'HuggingFaceTB/SmolLM2-135M', config: SMOLLM2_135M, params: 134_515_008, fileBytes: 269e6, weights: 'f16' },
  {
    name: 'GPT-2',
    repo: 'openai-community/gpt2',
    config: FULL_SIZE.gpt2,
    params: 124_439_808,
    fileBytes: 498e6,
    weights: 'f32',
    maxBufferBytes: BINDING_128_MIB,
    chunked: 'transformer.wte.weight',
  },
];

for (const c of CASES) {
  describe(`${c.name} at full size (random weights)`, () => {
    let dir: string;
    let hub: HubServer;
    let fileBytes: number;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'full-size-'));
      fileBytes = writeFullSizeCheckpoint(dir, c.config, 1);
      hub = await startHubServer(c.repo, dir);
    });
    afterAll(async () => {
      await hub?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('loads from a Hub-layout server, runs a forward and one LoRA step', async () => {
      expect(Math.abs(fileBytes - c.fileBytes)).toBeLessThan(1e6);
      const t0 = performance.now();
      const files = await readModelFiles(fetchReader(`${hub.url}${c.repo}/resolve/main/`), c.repo);
      const loadOptions = c.maxBufferBytes ? { maxBufferBytes: c.maxBufferBytes } : {};
      const engine = await Engine.load(files, { gpu: gpu(), ...loadOptions });
      const loadMs = performance.now() - t0;
      try {
        expect(engine.parameters).toBe(c.params);
        // BF16 files keep their weight matrices as f16 on the GPU (about half the bytes of the all-f32
        // layout of the same tensors); F32 files stay f32. Norms and biases are always f32.
        const base = engine.model.base;
        const entries = [...base.layout.entries.values()];
        expect(entries.filter((e) => e.shape.length === 2).every((e) => e.dtype === c.weights)).toBe(true);
        expect(entries.filter((e) => e.shape.length !== 2).every((e) => e.dtype === 'f32')).toBe(true);
        const f32Bytes = layoutParams(engine.model.arch.params, maxBufferBytes(gpu(), loadOptions)).bufferSizes.reduce((a, b) => a + b * 4, 0);
        const ratio = base.bytes / f32Bytes;
        if (c.weights === 'f16') {
          expect(ratio).toBeLessThan(0.501);
          expect(ratio).toBeGreaterThanOrEqual(0.5);
        } else {
          expect(ratio).toBe(1);
        }
        if (c.chunked) expect(base.entry(c.chunked).chunks.length).toBeGreaterThan(1);

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

        engine.attach(defaultMethod('LORA'), 0);
        const cfg = { ...defaultTrainConfig('LORA'), per_device_train_batch_size: B, max_length: T };
        engine.startTraining(cfg);
        const targets = Int32Array.from({ length: B * T }, () => Math.floor(rand() * V));
        const t2 = performance.now();
        const r = await engine.trainStep([{ B, T, ids, targets }], cfg.learning_rate);
        const stepMs = performance.now() - t2;
        console.log(
          `${c.name}: ${(fileBytes / 1e6).toFixed(0)} MB file, load ${(loadMs / 1000).toFixed(1)} s, base weights ${base.bytes} bytes (${c.weights}; ` +
            `${f32Bytes} as f32), engine GPU bytes ${engine.gpuBytes}; forward ${B}x${T} ${forwardMs.toFixed(0)} ms (first, pipelines compile), ` +
            `LoRA step ${stepMs.toFixed(0)} ms; loss ${r.loss.toFixed(4)} (ln V ${Math.log(V).toFixed(4)}), grad norm ${r.gradNorm.toExponential(2)}`,
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
      // A model of 100M+ parameters on a CPU-backed adapter (SwiftShader) takes minutes.
    }, 1_500_000);
  });
}

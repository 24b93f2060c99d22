// `npm run bench -- --model NAME`: a full-size model in the engine, measured in Node through Dawn (the
// `webgpu` package; on a machine with no GPU, SwiftShader on the CPU). The checkpoint is made at run
// time with the real config, shapes, file dtype (BF16; GPT-2 F32) and size, and seeded random weights
// (tests/helpers/full-size.ts), written to a temporary folder and deleted after. Measured:
//   - load time: reading the folder, parsing the safetensors and uploading the weights;
//   - per (B,T): forward tokens/s (forward + logits read back) and LoRA training tokens/s
//     (Engine.trainStep, exactly what a run does), each a median over `iters` after one warm-up;
//   - the peak bytes of GPUBuffers the engine held (all buffers its device created and had not
//     destroyed), at load and per (B,T).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireNodeGpu } from '../src/lib/gpu/node.ts';
import { describeAdapter } from '../src/lib/gpu/index.ts';
import { Engine } from '../src/lib/engine.ts';
import { readModelFiles } from '../src/lib/model/files.ts';
import { folderReader } from '../src/lib/model/files-node.ts';
import { defaultMethod, defaultTrainConfig } from '../src/lib/train/config.ts';
import { createRng } from '../src/lib/random.ts';
import { FULL_SIZE, writeFullSizeCheckpoint } from '../tests/helpers/full-size.ts';
import { trackDevice } from './ledger.ts';

export interface ModelBenchOptions {
  /** (B,T) pairs to measure */
  shapes: [number, number][];
  /** timed runs of each measurement, after one warm-up */
  iters: number;
  /** progress lines go here */
  log: (line: string) => void;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

async function timed<T>(work: () => Promise<T>): Promise<number> {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
}

export async function benchModel(name: string, opts: ModelBenchOptions): Promise<Record<string, unknown>> {
  const config = FULL_SIZE[name];
  if (!config) throw new Error(`--model ${name}: not a known checkpoint; one of ${Object.keys(FULL_SIZE).join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  const gpu = await acquireNodeGpu({ label: 'bench' });
  const ledger = trackDevice(gpu.device);
  try {
    opts.log(`writing a ${name} checkpoint (real shapes, ${config.torch_dtype === 'float32' ? 'F32' : 'BF16'}, random weights) to ${dir}`);
    const fileBytes = writeFullSizeCheckpoint(dir, config, 1);
    const t0 = performance.now();
    const files = await readModelFiles(folderReader(dir), dir);
    const engine = await Engine.load(files, { gpu });
    await gpu.device.queue.onSubmittedWorkDone();
    const loadMs = performance.now() - t0;
    const peakLoad = ledger.peak;
    opts.log(`loaded ${engine.parameters} parameters in ${(loadMs / 1000).toFixed(1)} s`);
    const V = engine.config.vocabSize;
    const rand = createRng(0);
    const shapes = [];
    for (const [B, T] of opts.shapes) {
      const ids = Int32Array.from({ length: B * T }, () => Math.floor(rand() * V));
      const targets = Int32Array.from({ length: B * T }, () => Math.floor(rand() * V));
      engine.detach();
      ledger.resetPeak();
      const forward: number[] = [];
      for (let i = 0; i <= opts.iters; i++) {
        const ms = await timed(() => engine.model.logits(ids, B, T));
        if (i > 0) forward.push(ms);
      }
      const peakForward = ledger.peak;
      engine.attach(defaultMethod('LORA'), 0);
      const cfg = { ...defaultTrainConfig('LORA'), per_device_train_batch_size: B, max_length: T };
      engine.startTraining(cfg);
      ledger.resetPeak();
      const train: number[] = [];
      let loss = NaN;
      for (let i = 0; i <= opts.iters; i++) {
        const ms = await timed(async () => {
          loss = (await engine.trainStep([{ B, T, ids, targets }], cfg.learning_rate)).loss;
        });
        if (i > 0) train.push(ms);
      }
      const peakTrain = ledger.peak;
      engine.endTraining();
      const row = {
        B,
        T,
        forward_ms: round(median(forward)),
        forward_tokens_per_s: round((B * T * 1000) / median(forward)),
        train_step_ms: round(median(train)),
        train_tokens_per_s: round((B * T * 1000) / median(train)),
        step_over_forward: round(median(train) / median(forward), 2),
        last_loss: round(loss, 4),
        peak_gpu_bytes_forward: peakForward,
        peak_gpu_bytes_train: peakTrain,
      };
      opts.log(`B=${B} T=${T}: forward ${row.forward_tokens_per_s} tok/s, LoRA train ${row.train_tokens_per_s} tok/s, peak ${(peakTrain / 1e6).toFixed(0)} MB`);
      shapes.push(row);
    }
    engine.destroy();
    return {
      model: name,
      config: { model_type: String(config.model_type), layers: engine.config.layers, hidden: engine.config.hidden, vocab: V },
      parameters: engine.parameters,
      weights_file_bytes: fileBytes,
      gpu: describeAdapter(gpu.adapter),
      load_ms: Math.round(loadMs),
      peak_gpu_bytes_load: peakLoad,
      lora: { r: defaultMethod('LORA').r, target_modules: defaultMethod('LORA').target_modules },
      iters: opts.iters,
      shapes,
    };
  } finally {
    gpu.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

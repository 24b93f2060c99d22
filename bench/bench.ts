// The benchmark page (`npm run bench` builds it, serves it and reads its result). In one browser, one
// run, it measures:
//   1. matmul GFLOP/s of the engine's GEMM on the default model's shapes (forward, dinp and dweight
//      layouts, LoRA's rank-r sides) and on 1024×1024×1024;
//   2. a forward pass over (B,T) tokens of models/brown-llama-4m: our engine (forward + logits) versus
//      onnxruntime-web's WebGPU execution provider running the shipped onnx/model.onnx on the same ids
//      (and how far apart their logits are);
//   3. a full LoRA training step (forward, loss, backward, gradient norm, AdamW: Engine.trainStep,
//      exactly what the app runs) against the forward of the same adapted model;
//   4. a DPO step against an SFT step on the same tokens (the batch's rows as chosen/rejected pairs,
//      with reference log-probs): what the preference loss head adds to a step;
//   5. the bytes of GPUBuffers the engine held at its peak;
//   6. a padded batch (short rows) stepped whole and cut to its bucket: real tokens/s of each;
//   7. counted, not timed: dispatches, bind groups created, error scopes pushed, command buffers and
//      bytes written by one steady-state LoRA training step.
//   8. greedy decode tokens/s with the LoRA merged into the weights and unmerged (bench/decode.ts).
//   9. where a LoRA step's time goes: each of its dispatches run alone and timed, summed by kernel
//      (bench/breakdown.ts).
// Every timing is a median over a few iterations after warm-up. GPU time comes from timestamp queries
// written by empty compute passes submitted just before and just after the measured work (the queue
// runs them in order); wall-clock time runs from the first encode to queue.onSubmittedWorkDone().
// The result is a JSON object in window.__BENCH__ (or an error in window.__BENCH_ERROR__).
import * as ort from 'onnxruntime-web/webgpu';
import ortMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import { acquireGpu, createTensor, readF32, Recorder, writeTensor, type Gpu, type Tensor } from '../src/lib/gpu/index.ts';
import { gemm } from '../src/lib/ops/matmul/matmul.ts';
import { Engine, type Batch } from '../src/lib/engine.ts';
import { realTokens, trimBatches } from '../src/lib/data/batches.ts';
import type { Model } from '../src/lib/model/model.ts';
import { parseModelConfig } from '../src/lib/model/config.ts';
import { loraScaling, type LoraConfig } from '../src/lib/adapters/config.ts';
import { defaultMethod, defaultObjective, defaultTrainConfig } from '../src/lib/train/config.ts';
import { Trainer } from '../src/lib/train/step.ts';
import { createRng } from '../src/lib/random.ts';
import { benchMergedDecode } from './decode.ts';
import { breakDown, traceDispatches } from './breakdown.ts';
import { Ledger } from './ledger.ts';

declare global {
  interface Window {
    __BENCH__?: Record<string, unknown>;
    __BENCH_ERROR__?: string;
  }
}

// ─── settings (URL parameters override them) ─────────────────────────────────────────────────────

const query = new URLSearchParams(location.search);
const num = (key: string, fallback: number) => (query.has(key) ? Number(query.get(key)) : fallback);

const MODEL_ID = query.get('model') ?? 'brown-llama-4m';
const SETTINGS = {
  /** sequences per batch (B) */
  B: num('B', 2),
  /** tokens per sequence (T) */
  T: num('T', 128),
  /**
   * untimed runs before measuring (pipelines compile, buffers appear); the model passes get one
   * untimed run each anyway (the logits comparison, the training-footprint step)
   */
  warmup: num('warmup', 1),
  /** timed forward passes (each runtime) */
  forwardIters: num('forwardIters', 3),
  /** greedy tokens per generation of the merged-vs-unmerged decode comparison */
  decodeTokens: num('decodeTokens', 16),
  /** timed LoRA training steps (and forwards of the adapted model, in turns with them) */
  trainIters: num('trainIters', 3),
  /** timed samples per matmul shape */
  matmulIters: num('matmulIters', 3),
  /** a matmul sample repeats the GEMM in one command buffer until it does about this much work */
  matmulFlopsPerSample: num('matmulFlops', 2e8),
  /** the LoRA adapter trained (PEFT's defaults as the app uses them) */
  lora: { ...defaultMethod('LORA'), r: num('r', 8), lora_alpha: num('alpha', 16) } satisfies LoraConfig,
  seed: num('seed', 0),
};

// ─── GPU buffer ledger: every GPUBuffer each device created and has not destroyed ─────────────────

const ledgers = new WeakMap<GPUDevice, Ledger>();
const bufferOwner = new WeakMap<GPUBuffer, Ledger>();
function ledgerOf(device: GPUDevice): Ledger {
  let l = ledgers.get(device);
  if (!l) ledgers.set(device, (l = new Ledger()));
  return l;
}
function installLedger(): void {
  const createBuffer = GPUDevice.prototype.createBuffer;
  GPUDevice.prototype.createBuffer = function (this: GPUDevice, desc: GPUBufferDescriptor) {
    const buffer = createBuffer.call(this, desc);
    const ledger = ledgerOf(this);
    ledger.add(buffer, desc.size);
    bufferOwner.set(buffer, ledger);
    return buffer;
  };
  const destroy = GPUBuffer.prototype.destroy;
  GPUBuffer.prototype.destroy = function (this: GPUBuffer) {
    bufferOwner.get(this)?.remove(this);
    return destroy.call(this);
  };
}

// ─── timing ──────────────────────────────────────────────────────────────────────────────────────

interface Timing {
  wallMs: number;
  /** from the timestamp written before the work to the one written after it; null without timestamp-query */
  gpuMs: number | null;
}

/**
 * Brackets work submitted to one device's queue with two GPU timestamps (empty compute passes in
 * their own command buffers: the queue runs command buffers in order) and measures wall-clock time
 * until the queue has finished.
 */
class Clock {
  private readonly querySet: GPUQuerySet | null = null;
  private readonly resolved: GPUBuffer | null = null;
  private readonly staging: GPUBuffer | null = null;

  constructor(readonly device: GPUDevice) {
    if (device.features.has('timestamp-query')) {
      this.querySet = device.createQuerySet({ label: 'bench clock', type: 'timestamp', count: 2 });
      this.resolved = device.createBuffer({ label: 'bench clock', size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      this.staging = device.createBuffer({ label: 'bench clock', size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    }
  }

  get method(): 'timestamp-query' | 'wall-clock' {
    return this.querySet ? 'timestamp-query' : 'wall-clock';
  }

  private mark(index: 0 | 1): void {
    if (!this.querySet) return;
    const enc = this.device.createCommandEncoder({ label: `bench clock ${index}` });
    const timestampWrites: GPUComputePassTimestampWrites =
      index === 0 ? { querySet: this.querySet, beginningOfPassWriteIndex: 0 } : { querySet: this.querySet, endOfPassWriteIndex: 1 };
    enc.beginComputePass({ label: `bench clock ${index}`, timestampWrites }).end();
    if (index === 1) {
      enc.resolveQuerySet(this.querySet, 0, 2, this.resolved!, 0);
      enc.copyBufferToBuffer(this.resolved!, 0, this.staging!, 0, 16);
    }
    this.device.queue.submit([enc.finish()]);
  }

  /**
   * Times `work`. `end`: 'call' puts the closing timestamp right after work() returns (for work that
   * submits everything synchronously, even if its promise then waits for a readback); 'settled' puts
   * it after the promise settles (for runtimes that submit asynchronously).
   */
  async time(work: () => unknown, end: 'call' | 'settled'): Promise<Timing> {
    const t0 = performance.now();
    this.mark(0);
    const pending = work();
    if (end === 'call') this.mark(1);
    await pending;
    if (end === 'settled') this.mark(1);
    await this.device.queue.onSubmittedWorkDone();
    const wallMs = performance.now() - t0;
    let gpuMs: number | null = null;
    if (this.staging) {
      await this.staging.mapAsync(GPUMapMode.READ);
      const [a, b] = new BigUint64Array(this.staging.getMappedRange().slice(0));
      this.staging.unmap();
      // Zero or reversed stamps mean the implementation did not write them: fall back to wall-clock.
      if (a > 0n && b > a) gpuMs = Number(b - a) / 1e6;
    }
    return { wallMs, gpuMs };
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolved?.destroy();
    this.staging?.destroy();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Measured {
  /** median wall-clock ms */
  wallMs: number;
  /** median GPU ms (null when any sample had no timestamps) */
  gpuMs: number | null;
  wallSamples: number[];
  /** the fastest sample (GPU time when every sample has it), the one least disturbed by other load */
  bestMs: number;
}

/** Something to time: work() on the clock's device, closing timestamp placed per `end` (see Clock.time). */
interface Job {
  clock: Clock;
  work: () => unknown;
  end: 'call' | 'settled';
}

function summarize(samples: Timing[]): Measured {
  const gpu = samples.map((s) => s.gpuMs);
  return {
    wallMs: median(samples.map((s) => s.wallMs)),
    gpuMs: gpu.every((g) => g !== null) ? median(gpu as number[]) : null,
    wallSamples: samples.map((s) => round(s.wallMs, 2)),
    bestMs: Math.min(...samples.map((s) => (gpu.every((g) => g !== null) ? s.gpuMs! : s.wallMs))),
  };
}

/**
 * Warms every job up, then runs them in turns (A B A B …) so a change in how busy the machine is
 * (SwiftShader shares the CPU with everything else) falls on all of them alike.
 */
async function measure(jobs: Job[], warmup: number, iters: number): Promise<Measured[]> {
  for (let i = 0; i < warmup; i++) for (const j of jobs) await j.clock.time(j.work, j.end);
  const samples: Timing[][] = jobs.map(() => []);
  for (let i = 0; i < iters; i++) {
    for (const [k, j] of jobs.entries()) samples[k].push(await j.clock.time(j.work, j.end));
  }
  return samples.map(summarize);
}

// ─── helpers ─────────────────────────────────────────────────────────────────────────────────────

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

function log(msg: string): void {
  const line = `[bench ${(performance.now() / 1000).toFixed(1)}s] ${msg}`;
  console.log(line);
  document.getElementById('log')!.textContent += line + '\n';
}


async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function fetchText(url: string): Promise<string | undefined> {
  const r = await fetch(url);
  return r.ok ? r.text() : undefined;
}

// ─── 1. matmul ───────────────────────────────────────────────────────────────────────────────────

interface GemmShape {
  /** e.g. "q_proj,o_proj forward" */
  name: string;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
}

/**
 * The products of one training step on the default model with BT = B·T rows, as the engine lays
 * them out (matmul.ts): forward out(BT,OC) = inp(BT,C)·Wᵀ with W stored (OC,C) (transB); backward
 * dinp(BT,C) = dout(BT,OC)·W; dweight(OC,C) = doutᵀ·inp with dout stored (BT,OC) (transA, K = BT,
 * split-K). LoRA's rank-r sides: u(BT,r) = x·Aᵀ, and dA(r,C) = duᵀ·x (K = BT).
 */
function gemmShapes(BT: number, C: number, linears: { name: string; in: number; out: number }[], r: number): GemmShape[] {
  const shapes: GemmShape[] = [];
  for (const l of linears) {
    shapes.push({ name: `${l.name} forward`, M: BT, N: l.out, K: l.in, transA: false, transB: true });
    shapes.push({ name: `${l.name} backward dinp`, M: BT, N: l.in, K: l.out, transA: false, transB: false });
    shapes.push({ name: `${l.name} backward dweight`, M: l.out, N: l.in, K: BT, transA: true, transB: false });
  }
  shapes.push({ name: `lora x·Aᵀ (r=${r}) forward`, M: BT, N: r, K: C, transA: false, transB: true });
  shapes.push({ name: `lora dA (r=${r}) backward`, M: r, N: C, K: BT, transA: true, transB: false });
  shapes.push({ name: 'square 1024', M: 1024, N: 1024, K: 1024, transA: false, transB: false });
  return shapes;
}

async function benchMatmul(gpu: Gpu, clock: Clock, shapes: GemmShape[]) {
  const random = createRng(SETTINGS.seed + 1);
  const filled = (shape: number[], label: string): Tensor => {
    const t = createTensor(gpu, shape, 'f32', label);
    writeTensor(gpu, t, Float32Array.from({ length: shape[0] * shape[1] }, () => random() * 2 - 1));
    return t;
  };
  const rows = [];
  for (const s of shapes) {
    const { M, N, K, transA, transB } = s;
    const a = filled(transA ? [K, M] : [M, K], 'bench A');
    const b = filled(transB ? [N, K] : [K, N], 'bench B');
    const out = createTensor(gpu, [M, N], 'f32', 'bench out');
    const flops = 2 * M * N * K;
    // Small products repeat inside one command buffer so the sample is not all submit overhead.
    const inner = Math.max(1, Math.min(32, Math.round(SETTINGS.matmulFlopsPerSample / flops)));
    const run = () => {
      const rec = new Recorder(gpu, 'bench gemm');
      for (let i = 0; i < inner; i++) gemm(rec, out, a, b, { M, N, K }, { transA, transB });
      rec.submit();
    };
    const [m] = await measure([{ clock, work: run, end: 'call' }], SETTINGS.warmup, SETTINGS.matmulIters);
    await gpu.checkErrors();
    const ms = (m.gpuMs ?? m.wallMs) / inner;
    const gflops = flops / ms / 1e6;
    const best = m.bestMs / inner;
    rows.push({ ...s, repeats: inner, ms: round(ms, 3), gflops: round(gflops, 2), best_ms: round(best, 3), gflops_best: round(flops / best / 1e6, 2) });
    log(`matmul ${s.name} M=${M} N=${N} K=${K}: ${gflops.toFixed(2)} GFLOP/s (${ms.toFixed(2)} ms)`);
    for (const t of [a, b, out]) t.buffer.destroy();
  }
  return rows;
}

// ─── 2. onnxruntime-web forward ──────────────────────────────────────────────────────────────────

async function setupOrt(modelUrl: string, ids: Int32Array, B: number, T: number, kvHeads: number, headDim: number) {
  const onnx = ort.env.wasm;
  onnx.wasmPaths = { mjs: new URL(ortMjsUrl, import.meta.url).href, wasm: new URL(ortWasmUrl, import.meta.url).href };
  const bytes = await fetchBytes(modelUrl);
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['webgpu'],
    // Outputs stay on the GPU, as the engine's logits do: neither side pays for a readback.
    preferredOutputLocation: 'gpu-buffer',
  });
  const device = await ort.env.webgpu.device;
  const feeds: Record<string, ort.Tensor> = {};
  const big = (f: (i: number) => number) => BigInt64Array.from({ length: B * T }, (_, i) => BigInt(f(i)));
  for (const name of session.inputNames) {
    if (name === 'input_ids') feeds[name] = new ort.Tensor('int64', big((i) => ids[i]), [B, T]);
    else if (name === 'attention_mask') feeds[name] = new ort.Tensor('int64', big(() => 1), [B, T]);
    else if (name === 'position_ids') feeds[name] = new ort.Tensor('int64', big((i) => i % T), [B, T]);
    else if (name.startsWith('past_key_values.')) feeds[name] = new ort.Tensor('float32', new Float32Array(0), [B, kvHeads, 0, headDim]);
    else throw new Error(`onnx input ${name}: the benchmark does not know what to feed`);
  }
  const run = async () => {
    const out = await session.run(feeds);
    for (const t of Object.values(out)) t.dispose();
  };
  // One untimed run whose logits come back, to check both runtimes compute the same thing.
  const first = await session.run(feeds);
  const logits = (await first.logits.getData()) as Float32Array;
  for (const t of Object.values(first)) t.dispose();
  return { session, device, run, logits };
}

// ─── 3. engine forward and LoRA training ─────────────────────────────────────────────────────────

function engineForward(model: Model, B: number, T: number, ids: Int32Array, logits: Tensor) {
  const acts = model.activations(B, T, false);
  const [io] = model.inputTensors(B, T, 1);
  const inp = model.writeInputs(io, ids);
  return () => {
    const rec = new Recorder(model.gpu, 'bench forward');
    model.transformer.forward(rec, acts, inp);
    model.transformer.logits(rec, acts, logits);
    rec.submit();
  };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`logits lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// ─── main ────────────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<Record<string, unknown>> {
  installLedger();
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const { B, T } = SETTINGS;
  const BT = B * T;
  const folder = new URL(`models/${MODEL_ID}/`, location.href).href;

  // The matmul sweep runs on a device of its own, destroyed afterwards, so the engine's ledger below
  // holds only what the model needs (not the sweep's operands or its grown split-K scratch).
  const configText = (await fetchText(folder + 'config.json')) ?? '';
  const cfg = parseModelConfig(configText);
  const q = cfg.heads * cfg.headDim;
  const kv = cfg.kvHeads * cfg.headDim;
  const linears = [
    { name: 'q_proj,o_proj', in: cfg.hidden, out: q },
    { name: 'k_proj,v_proj', in: cfg.hidden, out: kv },
    { name: 'gate_proj,up_proj', in: cfg.hidden, out: cfg.intermediate },
    { name: 'down_proj', in: cfg.intermediate, out: cfg.hidden },
    { name: 'lm_head', in: cfg.hidden, out: cfg.vocabSize },
  ];
  const sweepGpu = await acquireGpu({ label: 'bench matmul' });
  const sweepClock = new Clock(sweepGpu.device);
  const info = sweepGpu.adapter.info;
  log(`adapter: ${[info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' · ')}; timing: ${sweepClock.method}`);
  const matmul = await benchMatmul(sweepGpu, sweepClock, gemmShapes(BT, cfg.hidden, linears, SETTINGS.lora.r));
  sweepClock.destroy();
  sweepGpu.destroy();

  // The engine through its facade (src/lib/engine.ts); the forward is timed on engine.model directly
  // because the facade's logits() reads them back, which the timing leaves out on both sides.
  const engine = await Engine.load({
    config: configText,
    generationConfig: await fetchText(folder + 'generation_config.json'),
    weights: [await fetchBytes(folder + 'model.safetensors')],
  });
  const { gpu, model } = engine;
  const ledger = ledgerOf(gpu.device);
  const clock = new Clock(gpu.device);
  const parameters = engine.parameters;
  log(`model ${MODEL_ID}: ${parameters} parameters, L=${cfg.layers} C=${cfg.hidden} V=${cfg.vocabSize}; batch ${B}×${T}`);

  // Inputs: seeded random token ids; targets are the next id of the same stream (every position counts).
  const random = createRng(SETTINGS.seed + 2);
  const stream = Int32Array.from({ length: B * (T + 1) }, () => 3 + Math.floor(random() * (cfg.vocabSize - 3)));
  const ids = new Int32Array(BT);
  const targets = new Int32Array(BT);
  for (let b = 0; b < B; b++) {
    ids.set(stream.subarray(b * (T + 1), b * (T + 1) + T), b * T);
    targets.set(stream.subarray(b * (T + 1) + 1, (b + 1) * (T + 1)), b * T);
  }

  // onnxruntime-web (its own GPUDevice) and the engine's forward on the same ids, timed in turns.
  log('onnxruntime-web: loading onnx/model.onnx on the WebGPU execution provider');
  const ortRt = await setupOrt(folder + 'onnx/model.onnx', ids, B, T, cfg.kvHeads, cfg.headDim);
  const ortClock = new Clock(ortRt.device);
  const logits = createTensor(gpu, [BT, cfg.vocabSize], 'f32', 'bench logits');
  const baseForward = engineForward(model, B, T, ids, logits);
  baseForward();
  const engineLogits = await readF32(gpu, logits);
  const logitsDiff = maxAbsDiff(engineLogits, ortRt.logits);
  log(`engine logits vs onnxruntime: max |Δ| ${logitsDiff.toExponential(2)}; timing both forwards`);
  // Both have just run once (the comparison above): that was their warm-up.
  const [fwd, ortFwd] = await measure(
    [
      { clock, work: baseForward, end: 'call' },
      { clock: ortClock, work: ortRt.run, end: 'settled' },
    ],
    Math.max(0, SETTINGS.warmup - 1),
    SETTINGS.forwardIters,
  );
  await gpu.checkErrors();
  const peakForward = ledger.peak;
  const ortPeak = ledgerOf(ortRt.device).peak;
  ortClock.destroy();
  await ortRt.session.release();
  log(`engine forward ${fwd.wallMs.toFixed(1)} ms (${((BT * 1000) / fwd.wallMs).toFixed(0)} tok/s); onnxruntime-web ${ortFwd.wallMs.toFixed(1)} ms (${((BT * 1000) / ortFwd.wallMs).toFixed(0)} tok/s)`);

  // LoRA: attach, then one training step alone (its warm-up) to see the training footprint at its
  // peak; then the adapted model's forward and the training step, timed in turns.
  engine.attach(SETTINGS.lora, SETTINGS.seed);
  const attached = model.attached!;
  const trainable = engine.trainableParameters;
  // 8. decoding with the adapter merged into the weights vs unmerged (bench/decode.ts)
  const decode = await benchMergedDecode(model, ids.subarray(0, 16), SETTINGS.decodeTokens, SETTINGS.forwardIters);
  log(`decode: merged ${decode.merged_tokens_per_s} tok/s, unmerged ${decode.unmerged_tokens_per_s} tok/s`);
  model.releaseActivations();
  logits.buffer.destroy();
  ledger.resetPeak();
  const trainCfg = { ...defaultTrainConfig('LORA'), per_device_train_batch_size: B, max_length: T, seed: SETTINGS.seed };
  engine.startTraining(trainCfg);
  const batch: Batch = { B, T, ids, targets };
  const losses: number[] = [];
  const step = () =>
    engine.trainStep([batch], trainCfg.learning_rate).then((r) => {
      if (r.nonfinite) throw new Error(`training step ${r.step}: non-finite loss or gradient`);
      losses.push(round(r.loss, 4));
    });
  await step();
  await gpu.checkErrors();
  const peakTrain = ledger.peak;
  const adamBytes = engine.gpuBytes - model.bytes;
  const bytes = {
    base_weights: model.base.bytes,
    trainable: attached.params.bytes,
    grads: attached.grads.bytes,
    adamw_moments: adamBytes,
    activations: model.bytes - model.base.bytes - attached.params.bytes - attached.grads.bytes,
    engine_gpu_bytes: engine.gpuBytes,
  };
  const loraLogits = createTensor(gpu, [BT, cfg.vocabSize], 'f32', 'bench logits');
  const loraForward = engineForward(model, B, T, ids, loraLogits);
  loraForward();
  await gpu.device.queue.onSubmittedWorkDone();
  log('timing the LoRA forward and training step');
  // Both have run once untimed (the step above, the forward just now): that was their warm-up.
  // trainStep submits its command buffer (and the loss readback's copy) before it first awaits.
  const [lfwd, train] = await measure(
    [
      { clock, work: loraForward, end: 'call' },
      { clock, work: step, end: 'call' },
    ],
    Math.max(0, SETTINGS.warmup - 1),
    SETTINGS.trainIters,
  );
  await gpu.checkErrors();
  // Counted, not timed: what one more (steady-state) training step asks of the GPU API.
  const countedFrom = gpu.counters.snapshot();
  const stepDispatches = await traceDispatches(gpu, step);
  const perStep = gpu.counters.since(countedFrom);
  // 9. where that step's time goes, kernel by kernel (bench/breakdown.ts); replaying the step's
  // dispatches moves the adapter's weights a little further, which the timings after it do not mind
  log(`timing the ${stepDispatches.length} dispatches of a LoRA step one at a time`);
  const breakdown = await breakDown(gpu, stepDispatches, (work) => clock.time(work, 'call'), clock.method);
  log(`step breakdown: ${breakdown.kernels.slice(0, 4).map((k) => `${k.kernel.split(' ')[0]} ${(100 * k.share).toFixed(0)}%`).join(', ')}`);
  log(`engine forward with LoRA ${lfwd.wallMs.toFixed(1)} ms; LoRA train step ${train.wallMs.toFixed(1)} ms (${((BT * 1000) / train.wallMs).toFixed(0)} tok/s); losses ${losses.join(' ')}`);

  // No compute on padding: rows of 10–23 real tokens (the issue's QA file) padded to T, stepped as
  // they are and cut to their bucket (data/batches.ts); tokens/s counts only the real tokens.
  const padRandom = createRng(SETTINGS.seed + 3);
  const padIds = new Int32Array(BT);
  const padTargets = new Int32Array(BT).fill(-100);
  for (let b = 0; b < B; b++) {
    const L = 10 + Math.floor(padRandom() * 14);
    padIds.set(ids.subarray(b * T, b * T + L), b * T);
    padTargets.set(targets.subarray(b * T, b * T + L), b * T);
  }
  const paddedBatch: Batch = { B, T, ids: padIds, targets: padTargets };
  const [cutBatch] = trimBatches([paddedBatch]);
  const real = realTokens(paddedBatch);
  const stepOn = (b: Batch) => () =>
    engine.trainStep([b], trainCfg.learning_rate).then((r) => {
      if (r.nonfinite) throw new Error('padding comparison: non-finite loss or gradient');
    });
  log(`timing a padded batch (${real} real tokens of ${BT}) whole and cut to T=${cutBatch.T}`);
  const [padFull, padCut] = await measure(
    [
      { clock, work: stepOn(paddedBatch), end: 'call' },
      { clock, work: stepOn(cutBatch), end: 'call' },
    ],
    SETTINGS.warmup,
    SETTINGS.trainIters,
  );
  await gpu.checkErrors();

  // DPO against SFT on the same tokens: the B rows as B/2 (chosen, rejected) pairs with their
  // reference log-probs, each step through its own Trainer (AdamW state) on the same adapter.
  if (B % 2 !== 0) throw new Error(`the DPO step needs an even batch (B=${B})`);
  const reference = await engine.sequenceLogps([batch]);
  const sftTrainer = new Trainer(model, trainCfg);
  const dpoTrainer = new Trainer(model, trainCfg, defaultObjective('dpo'));
  const checked = (r: { nonfinite: boolean }) => {
    if (r.nonfinite) throw new Error('DPO/SFT comparison: non-finite loss or gradient');
  };
  const sftStep = () => sftTrainer.trainStep([batch], trainCfg.learning_rate).then(checked);
  const dpoStep = () => dpoTrainer.trainStep([{ ...batch, reference }], trainCfg.learning_rate).then(checked);
  log('timing a DPO step against an SFT step on the same tokens');
  const [sftTimed, dpoTimed] = await measure(
    [
      { clock, work: sftStep, end: 'call' },
      { clock, work: dpoStep, end: 'call' },
    ],
    SETTINGS.warmup,
    SETTINGS.trainIters,
  );
  await gpu.checkErrors();
  sftTrainer.destroy();
  dpoTrainer.destroy();
  log(`SFT step ${sftTimed.wallMs.toFixed(1)} ms; DPO step ${dpoTimed.wallMs.toFixed(1)} ms on the same ${BT} tokens`);

  loraLogits.buffer.destroy();
  clock.destroy();
  engine.destroy();

  const tokS = (ms: number) => round((BT * 1000) / ms, 1);
  // How much of a forward / a LoRA step the sweep's GEMM times account for: each base projection
  // runs once per layer per forward (q,o and k,v and gate,up are pairs), lm_head once; the LoRA
  // step adds each projection's dinp product (frozen weights get no dweight). LoRA's own rank-r
  // products are left out (they are small). The rest is attention, norms, RoPE, SwiGLU, loss, AdamW.
  // Fastest samples on both sides: the least disturbed by whatever else the machine runs.
  const msOf = (name: string) => matmul.find((m) => m.name === name)!.best_ms;
  const perLayer = (layout: string) =>
    2 * msOf(`q_proj,o_proj ${layout}`) + 2 * msOf(`k_proj,v_proj ${layout}`) + 2 * msOf(`gate_proj,up_proj ${layout}`) + msOf(`down_proj ${layout}`);
  const forwardMatmulMs = cfg.layers * perLayer('forward') + msOf('lm_head forward');
  const stepMatmulMs = forwardMatmulMs + cfg.layers * perLayer('backward dinp') + msOf('lm_head backward dinp');
  const lora = SETTINGS.lora;
  return {
    benchmark: 'lora-playground engine vs onnxruntime-web',
    started_at: startedAt,
    finished_at: new Date().toISOString(),
    page_seconds: round((performance.now() - t0) / 1000, 1),
    model: `models/${MODEL_ID}`,
    decode,
    model_parameters: parameters,
    batch: B,
    seq: T,
    tokens_per_batch: BT,
    gpu_adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      features: [...gpu.features].sort(),
    },
    timing: {
      method: clock.method,
      matmul: clock.method === 'timestamp-query' ? 'GPU timestamps around each sample' : 'wall-clock to onSubmittedWorkDone',
      models:
        'wall-clock from the first encode to queue.onSubmittedWorkDone (CPU encoding and submission included, same rule for both runtimes); *_gpu_ms: GPU timestamps where available',
      warmup: SETTINGS.warmup,
      iterations: { forward: SETTINGS.forwardIters, train: SETTINGS.trainIters, matmul: SETTINGS.matmulIters },
      statistic: 'median',
    },
    matmul_gflops: Object.fromEntries(matmul.map((m) => [`${m.name} ${m.M}x${m.N}x${m.K}`, m.gflops])),
    matmul,
    engine_forward_ms: round(fwd.wallMs, 2),
    engine_forward_gpu_ms: fwd.gpuMs === null ? null : round(fwd.gpuMs, 2),
    engine_forward_tok_s: tokS(fwd.wallMs),
    ort_forward_ms: round(ortFwd.wallMs, 2),
    ort_forward_gpu_ms: ortFwd.gpuMs === null ? null : round(ortFwd.gpuMs, 2),
    ort_forward_tok_s: tokS(ortFwd.wallMs),
    forward_ratio_engine_over_ort: round(ortFwd.wallMs / fwd.wallMs, 3),
    forward_samples_ms: { engine: fwd.wallSamples, ort: ortFwd.wallSamples },
    ort: {
      version: ort.env.versions.web,
      execution_provider: 'webgpu',
      outputs: 'gpu-buffer (no readback)',
      device_features: [...ortRt.device.features].sort(),
      peak_gpu_bytes: ortPeak,
    },
    logits_max_abs_diff_engine_vs_ort: Number(logitsDiff.toExponential(3)),
    logits_max_abs: round(engineLogits.reduce((m, x) => Math.max(m, Math.abs(x)), 0), 3),
    matmul_share_estimate: {
      note: 'sum of the sweep GEMM times a pass runs (base projections and lm_head), over the pass time; fastest samples of each',
      forward_matmul_ms: round(forwardMatmulMs, 1),
      forward: round(forwardMatmulMs / fwd.bestMs, 3),
      lora_step_matmul_ms: round(stepMatmulMs, 1),
      lora_step: round(stepMatmulMs / train.bestMs, 3),
    },
    engine_lora_forward_ms: round(lfwd.wallMs, 2),
    lora_forward_samples_ms: lfwd.wallSamples,
    lora_train_step_ms: round(train.wallMs, 2),
    lora_train_step_gpu_ms: train.gpuMs === null ? null : round(train.gpuMs, 2),
    // every position of the timed batch is a real token (random ids, every target counted)
    lora_train_tok_s: tokS(train.wallMs),
    step_over_forward: round(train.wallMs / lfwd.wallMs, 3),
    padding: {
      note: 'rows of 10-23 real tokens padded to seq; the same LoRA step on the whole batch and on the batch cut to its bucket; tok/s over real tokens only',
      seq_full: T,
      seq_cut: cutBatch.T,
      real_tokens: real,
      step_ms_full: round(padFull.wallMs, 2),
      step_ms_cut: round(padCut.wallMs, 2),
      real_tok_s_full: round((real * 1000) / padFull.wallMs, 1),
      real_tok_s_cut: round((real * 1000) / padCut.wallMs, 1),
      speedup: round(padFull.wallMs / padCut.wallMs, 3),
    },
    // GPU API calls of one steady-state LoRA training step (gpu/counters.ts)
    dispatches_per_step: perStep.dispatches,
    bind_groups_per_step: perStep.bindGroups,
    error_scopes_per_step: perStep.errorScopes,
    command_buffers_per_step: perStep.commandBuffers,
    // each dispatch of that step run alone and timed, summed by kernel (bench/breakdown.ts)
    step_breakdown: breakdown,
    bytes_written_per_step: perStep.bytesWritten,
    sft_step_ms: round(sftTimed.wallMs, 2),
    dpo_step_ms: round(dpoTimed.wallMs, 2),
    dpo_step_over_sft_step: round(dpoTimed.wallMs / sftTimed.wallMs, 3),
    dpo_step_samples_ms: { sft: sftTimed.wallSamples, dpo: dpoTimed.wallSamples },
    step_over_base_forward: round(train.wallMs / fwd.wallMs, 3),
    lora_train_losses: losses,
    train_step_samples_ms: train.wallSamples,
    // every GPUBuffer of the engine's device alive at once, at the worst moment (weights, activations,
    // adapter, gradients, AdamW moments, uniforms, scratch, readback staging)
    peak_gpu_bytes: Math.max(peakForward, peakTrain),
    peak_gpu_bytes_forward: peakForward,
    peak_gpu_bytes_train: peakTrain,
    engine_bytes_when_training: bytes,
    adapter: {
      method: lora.peft_type,
      r: lora.r,
      alpha: lora.lora_alpha,
      scaling: loraScaling(lora),
      dropout: lora.lora_dropout,
      use_rslora: lora.use_rslora,
      targets: [...new Set(attached.def.specs.map((s) => s.name.replace(/^.*\.(\w+)\.lora_[AB]\.weight$/, '$1')))],
      trainable_params: trainable,
      trainable_fraction: round(trainable / parameters, 5),
      optimizer: `AdamW lr ${trainCfg.learning_rate} betas ${trainCfg.adam_beta1}/${trainCfg.adam_beta2} clip ${trainCfg.max_grad_norm}`,
    },
  };
}

main().then(
  (result) => {
    window.__BENCH__ = result;
    document.getElementById('result')!.textContent = JSON.stringify(result, null, 2);
    log('done');
  },
  (err: unknown) => {
    const msg = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
    window.__BENCH_ERROR__ = msg;
    log(`FAILED: ${msg}`);
  },
);

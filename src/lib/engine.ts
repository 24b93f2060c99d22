// The engine facade: everything the worker, the command line and the tests do with our own WGSL
// engine, in one object.
//
//   const engine = await Engine.load({ config, generationConfig, weights: [safetensorsBytes] });
//   engine.attach(defaultMethod('LORA'), seed);                   // a MethodConfig, PEFT's names
//   engine.startTraining(trainConfig);                              // fresh AdamW state (SFT)
//   const r = await engine.trainStep([batch], lr);                  // loss, grad norm, NaN/Inf flag
//   const { loss } = await engine.evaluate(validationBatches);
//   const ref = await engine.sequenceLogps(pairBatches);            // Σ log p per row (DPO's reference)
//   engine.startTraining(trainConfig, { type: 'dpo', ... });        // a preference objective (train/objective.ts)
//   const { loss, metrics } = await engine.evaluate(pairBatches, objective);
//   for await (const id of engine.generate(promptIds, { maxNewTokens: 64, sampling })) { ... }
//   const peft = await engine.exportWeights();                    // PEFT key → { shape, data }
//   const ckpt = await engine.checkpoint(); engine.restore(ckpt);   // ArrayBuffers to persist
//
// A run of many steps (batches, schedule, evaluation, checkpoints, recovery) is train/run.ts's job.
// The engine owns a Gpu (or borrows one), one Model with its read-only base weights, at most one
// attached method and the Trainer (AdamW state) of the current run.
import { acquireGpu, type Gpu } from './gpu/index.ts';
import type { MethodConfig } from './adapters/config.ts';
import { generate, type GenerateOptions } from './generate/generate.ts';
import { TextStream, type GenerationResult, type StopReason, type StreamedToken } from './generate/stream.ts';
import { Model, type ModelFiles } from './model/model.ts';
import type { ModelConfig } from './model/config.ts';
import { numel } from './model/params.ts';
import type { LoadOptions } from './model/weights.ts';
import { restoreCheckpoint, saveCheckpoint, type Checkpoint } from './train/checkpoint.ts';
import type { TrainConfig } from './train/config.ts';
import { IGNORE_INDEX } from './ops/crossentropy/reference.ts';
import type { Batch } from './data/batches.ts';
import { Trainer, type StepResult } from './train/step.ts';
import { isPreference, SFT, type ObjectiveConfig, type PreferenceMetrics } from './train/objective.ts';
import { evaluatePreference, sequenceLogps, sequenceRewards } from './train/preference.ts';

export type { MethodConfig } from './adapters/config.ts';
export type { Batch } from './data/batches.ts';
export type { StepResult } from './train/step.ts';
export type { Checkpoint } from './train/checkpoint.ts';
export type { GenerateOptions } from './generate/generate.ts';
export type { StopReason } from './generate/stream.ts';
export type { TrainConfig } from './train/config.ts';
export type { ObjectiveConfig, PreferenceMetrics } from './train/objective.ts';
export type { ModelFiles } from './model/model.ts';

export interface EngineOptions extends LoadOptions {
  /** use this device instead of acquiring one (the engine then does not destroy it) */
  gpu?: Gpu;
}

/** One exported tensor: a PEFT key (or a Hugging Face name for full fine-tuning) and its values. */
export interface ExportedTensor {
  shape: number[];
  data: Float32Array;
}

/** Thrown by Engine.whileAlive when the GPU device is lost while the work was pending. */
export class DeviceLost extends Error {}

/** A GPU failure a test can inject (Engine.injectFault): an invalid command, or the device lost. */
export type InjectedFault = 'validation' | 'lose-device';

export class Engine {
  private trainer: Trainer | null = null;
  /** The device's message once the GPUDevice is lost (by a driver reset, a crash or destroy()); the engine is then unusable. */
  lost: string | null = null;

  private constructor(
    readonly gpu: Gpu,
    readonly model: Model,
    private readonly ownsGpu: boolean,
  ) {
    void gpu.lost.then((message) => {
      this.lost = message;
    });
  }

  /**
   * Resolves as `work` does, or rejects with DeviceLost as soon as the device is lost — whichever
   * comes first — so nothing waits forever on a GPU that is gone.
   */
  whileAlive<T>(work: Promise<T>): Promise<T> {
    if (this.lost) return Promise.reject(new DeviceLost(this.lost));
    const lost = this.gpu.lost.then((m) => Promise.reject(new DeviceLost(m)));
    lost.catch(() => {}); // only the race's loser: never an unhandled rejection
    return Promise.race([work, lost]);
  }

  /** Loads config.json + model.safetensors (F32/F16/BF16) onto the GPU. */
  static async load(files: ModelFiles, opts: EngineOptions = {}): Promise<Engine> {
    const gpu = opts.gpu ?? (await acquireGpu({ label: 'engine' }));
    try {
      const model = Model.load(gpu, files, opts);
      await gpu.device.queue.onSubmittedWorkDone();
      await gpu.checkErrors();
      return new Engine(gpu, model, !opts.gpu);
    } catch (e) {
      if (!opts.gpu) gpu.destroy();
      throw e;
    }
  }

  get config(): ModelConfig {
    return this.model.cfg;
  }

  /** Base-model parameter count. */
  get parameters(): number {
    return this.model.arch.params.reduce((n, p) => n + numel(p.shape), 0);
  }

  /** The attached method, or null for the bare base model. */
  get method(): MethodConfig | null {
    return this.model.attached?.def.config ?? null;
  }

  /** Trainable parameter count of the attached method (0 without one). */
  get trainableParameters(): number {
    return this.model.attached?.def.specs.reduce((n, p) => n + numel(p.shape), 0) ?? 0;
  }

  /** GPU memory held by the engine's own buffers (weights, trainable state, activations). */
  get gpuBytes(): number {
    const t = this.trainer;
    return this.model.bytes + (t ? t.optimizer.m.bytes + t.optimizer.v.bytes : 0);
  }

  // ------------------------------------------------------------------ methods

  /** Attaches a method with its initial values (seeded); ends any training run. */
  attach(method: MethodConfig, seed = 0): void {
    this.endTraining();
    this.model.attach(method, seed);
  }

  /** Back to the bare base model. */
  detach(): void {
    this.endTraining();
    this.model.detach();
  }

  /**
   * The trainable tensors as they are exported (PEFT adapter_model.safetensors keys and shapes): the
   * attached method's weights, or those of `from`, a checkpoint of it (e.g. a run's best).
   */
  async exportWeights(from?: Checkpoint): Promise<Map<string, ExportedTensor>> {
    const a = this.model.attached;
    if (!a) throw new Error('exportWeights: no method is attached');
    if (from && (JSON.stringify(from.method) !== JSON.stringify(a.def.config) || from.params.byteLength !== a.params.totalElements * 4)) {
      throw new Error('exportWeights: the checkpoint was made for a different method or model');
    }
    const flat = from ? new Float32Array(from.params) : await a.params.readAll();
    const out = new Map<string, ExportedTensor>();
    for (const spec of a.def.specs) {
      const t = a.def.toExport(spec.name, a.params.extract(flat, spec.name));
      out.set(t.key, { shape: t.shape, data: t.data });
    }
    return out;
  }

  /**
   * Loads exported tensors into the attached method (e.g. an imported PEFT adapter). Every trainable
   * tensor must be present, with its shape; keys the method does not have are an error.
   */
  importWeights(tensors: Map<string, ExportedTensor> | Record<string, ExportedTensor>): void {
    const a = this.model.attached;
    if (!a) throw new Error('importWeights: attach the matching method first');
    const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
    const seen = new Set<string>();
    for (const [key, t] of entries) {
      const r = a.def.fromExport(key, t.shape, t.data);
      if (!r) throw new Error(`importWeights: ${key} is not a parameter of the attached ${a.def.config.peft_type} method`);
      a.params.write(r.name, r.data);
      seen.add(r.name);
    }
    const missing = a.def.specs.filter((s) => !seen.has(s.name)).map((s) => s.name);
    if (missing.length) throw new Error(`importWeights: missing ${missing.length} tensors, e.g. ${missing[0]}`);
    this.model.unmergeLora();
  }

  // ------------------------------------------------------------------ training

  /** Starts a run on the attached method: fresh AdamW state with these settings, minimising `objective`. */
  startTraining(cfg: TrainConfig, objective: ObjectiveConfig = SFT): void {
    this.endTraining();
    this.trainer = new Trainer(this.model, cfg, objective);
  }

  /** Test hook: NaN in every trainable weight, so the next step's loss is NaN. */
  poison(): void {
    const params = this.model.attached?.params;
    if (!params) throw new Error('poison: no method is attached');
    params.writeAll(new Float32Array(params.totalElements).fill(NaN));
  }

  /**
   * Test hook: makes the GPU work fail as a driver bug or a crashed GPU process would. 'validation'
   * records an invalid command (a buffer both mappable and bound as storage) in the engine's own error
   * scopes, so the next readback or error check throws it as a GpuError; 'lose-device' destroys the
   * GPUDevice, as a driver reset does.
   */
  injectFault(how: InjectedFault): void {
    const { device, pipelines } = this.gpu;
    if (how === 'lose-device') {
      device.destroy();
      return;
    }
    const pop = pipelines.errors.scope(device, 'injected GPU fault (debug)');
    device.createBuffer({ label: 'injected fault', size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
    pop();
  }

  /** Frees the run's optimizer state. */
  endTraining(): void {
    this.trainer?.destroy();
    this.trainer = null;
  }

  /** Optimizer steps taken in this run. */
  get step(): number {
    return this.trainer?.step ?? 0;
  }

  /**
   * One optimizer step over `batches` (gradient accumulation over all of them) at learning rate `lr`.
   * NaN/Inf gradients skip the update (result.nonfinite); only the losses and gradient statistics
   * are read back.
   */
  async trainStep(batches: Batch[], lr: number): Promise<StepResult & { step: number }> {
    const t = this.trainer;
    if (!t) throw new Error('trainStep: call startTraining() first');
    const r = await t.trainStep(batches, lr);
    return { ...r, step: t.step };
  }

  /** The run's state: trainable weights, AdamW moments and step, as ArrayBuffers. */
  async checkpoint(): Promise<Checkpoint> {
    if (!this.trainer) throw new Error('checkpoint: no training run');
    return saveCheckpoint(this.trainer);
  }

  /**
   * Puts a checkpoint back (attaching its method and starting a run with `cfg` first if needed; the
   * run's objective is kept, SFT when there was no run).
   */
  restore(c: Checkpoint, cfg: TrainConfig): void {
    if (!this.trainer || JSON.stringify(this.method) !== JSON.stringify(c.method)) {
      const objective = this.trainer?.objective ?? SFT;
      this.attach(c.method);
      this.startTraining(cfg, objective);
    }
    restoreCheckpoint(this.trainer!, c);
  }

  // ------------------------------------------------------------------ evaluation and generation

  /**
   * Mean masked cross-entropy over all counted positions of `batches`, and how many there were; with
   * a preference objective, its loss and TRL's metrics over the batches' pairs (rows 2i, 2i+1).
   */
  async evaluate(batches: Batch[], objective: ObjectiveConfig = SFT): Promise<{ loss: number; tokens: number; metrics?: PreferenceMetrics }> {
    if (isPreference(objective)) {
      const r = await evaluatePreference(this.model, batches, objective);
      return { loss: r.loss, tokens: r.tokens, metrics: r.metrics };
    }
    let sum = 0;
    let tokens = 0;
    for (const b of batches) {
      let count = 0;
      for (const t of b.targets) if (t !== IGNORE_INDEX) count++;
      if (count === 0) continue;
      const loss = await this.model.loss(b.ids, b.targets, b.B, b.T);
      sum += loss * count;
      tokens += count;
    }
    return { loss: tokens ? sum / tokens : NaN, tokens };
  }

  /**
   * Σ log p of each row's counted tokens with whatever is attached (the bare base when nothing is),
   * B values per batch in order: the reference log-probabilities a DPO run computes once. Only these
   * numbers come back, never a per-token value.
   */
  sequenceLogps(batches: Batch[]): Promise<Float32Array> {
    return sequenceLogps(this.model, batches);
  }

  /**
   * The reward of every row of `batches` under the attached reward model (a method with the score
   * head): its last token's final hidden state times score.weight; B values per batch in order.
   */
  rewards(batches: Batch[]): Promise<Float32Array> {
    return sequenceRewards(this.model, batches);
  }

  /** Logits (B·T·V) of one batch. */
  logits(ids: Int32Array, B: number, T: number): Promise<Float32Array> {
    return this.model.logits(ids, B, T);
  }

  /**
   * Streams generated token ids (KV cache, the attached method applied); returns why it stopped.
   * Outside a training run an attached LoRA is first merged into copies of the weights it targets
   * (PEFT's merge_and_unload without the unload), so decoding skips the two extra products per
   * projection; the copies are dropped when the weights change or a run starts. Not when the base
   * stores weights as f16: the f32 copies would cost more memory than the base weights they replace.
   */
  generate(prompt: ArrayLike<number>, opts: GenerateOptions): AsyncGenerator<number, StopReason> {
    if (!this.trainer && this.method?.peft_type === 'LORA' && !this.model.merged && !this.model.halfWeights) this.model.mergeLora();
    return generate(this.model, prompt, opts);
  }

  /**
   * Generates from a rendered prompt and streams the text: each token through `onToken` (decoded by
   * the one streamed decoder, generate/stream.ts), then the whole result with its timing. Gives up
   * with DeviceLost as soon as the device is lost.
   */
  async generateText(
    prompt: { rendered: string; ids: number[] },
    opts: GenerateOptions,
    decode: (ids: number[]) => string,
    onToken: (token: StreamedToken) => void,
  ): Promise<GenerationResult> {
    const stream = new TextStream(decode, onToken);
    const tokens = this.generate(prompt.ids, opts);
    for (;;) {
      const r = await this.whileAlive(tokens.next());
      if (r.done) return stream.finish(prompt, r.value);
      stream.push(r.value);
    }
  }

  destroy(): void {
    this.endTraining();
    this.model.destroy();
    if (this.ownsGpu) this.gpu.destroy();
  }
}

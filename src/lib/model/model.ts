// A loaded model: its config, architecture, read-only base weights on the GPU, and (optionally) one
// attached trainable method — LoRA, bottleneck adapters, prefix tuning or full fine-tuning — whose
// parameters and gradients live in two stores of one layout.
import { createTensor, readF32, Recorder, reshape, writeBuffer, type Gpu, type Tensor } from '../gpu/index.ts';
import type { MethodConfig } from '../adapters/config.ts';
import { trainableDef, type TrainableDef } from '../adapters/trainable.ts';
import { Activations } from './activations.ts';
import { architectureFor, type Architecture } from './architecture.ts';
import { bindModel } from './bindings.ts';
import { parseModelConfig, type ModelConfig } from './config.ts';
import { layoutParams } from './params.ts';
import { loraScaling } from '../adapters/config.ts';
import { loraKeys, loraModules } from '../adapters/lora.ts';
import { IGNORE_INDEX } from '../ops/crossentropy/reference.ts';
import { gemm } from '../ops/matmul/matmul.ts';
import { ParamStore } from './store.ts';
import { Transformer, type ForwardInputs, type HeadInputs } from './transformer.ts';

import { loadBaseWeights, maxBufferBytes, openCheckpoint, type LoadOptions } from './weights.ts';

export interface ModelFiles {
  /** config.json (text or parsed) */
  config: string | Record<string, unknown>;
  /** generation_config.json, if the folder has one (eos tokens) */
  generationConfig?: string | Record<string, unknown>;
  /** model.safetensors, or every shard of a sharded checkpoint */
  weights: (ArrayBuffer | Uint8Array)[];
}

/** The GPU tensors one micro-batch's inputs are written to (see Model.inputTensors). */
export interface InputSet {
  ids: Tensor; // (B,T) i32
  positions: Tensor; // (B,T) i32
  targets: Tensor; // (B,T) i32
  rows: Tensor; // (B·T) i32: flat indices of the counted positions (first `count`)
  ctargets: Tensor; // (B·T) i32: their targets
  iota: Tensor; // (B·T+1) u32: 0, 1, 2, ... (shared by the sets of one shape)
  reference: Tensor; // (B) f32: each row's log π under the reference model (preference objectives)
  last: Tensor; // (B) i32: flat position of each row's last token, −1 for a row with none (the reward head)
}

export interface Attached {
  def: TrainableDef;
  params: ParamStore;
  grads: ParamStore;
}

export class Model {
  readonly transformer: Transformer;
  attached: Attached | null = null;
  /** LoRA merged into copies of the targeted weights (mergeLora); the base store is never written */
  merged: ParamStore | null = null;

  /**
   * Some base weights are stored as f16. Merged LoRA copies are f32, so merging would take twice the
   * bytes of the f16 weights it targets (1.4 GB for an all-linear LoRA on Qwen2.5-0.5B); the engine
   * then generates with the LoRA branch instead.
   */
  get halfWeights(): boolean {
    for (const e of this.base.layout.entries.values()) if (e.dtype === 'f16') return true;
    return false;
  }
  private acts = new Map<string, Activations>();
  private inputs = new Map<string, InputSet[]>();

  private constructor(
    readonly gpu: Gpu,
    readonly cfg: ModelConfig,
    readonly arch: Architecture,
    readonly base: ParamStore,
    readonly loadOptions: LoadOptions,
  ) {
    this.transformer = new Transformer(gpu, arch, bindModel(arch, base, null, null, null));
  }

  static load(gpu: Gpu, files: ModelFiles, opts: LoadOptions = {}): Model {
    const cfg = parseModelConfig(files.config, files.generationConfig);
    const arch = architectureFor(cfg);
    const base = loadBaseWeights(gpu, arch, openCheckpoint(files.weights), opts);
    return new Model(gpu, cfg, arch, base, opts);
  }

  /**
   * Attaches a trainable method (replacing any other): fresh parameters with the method's initial
   * values (drawn from `seed`; full fine-tuning copies the base weights), zero gradients.
   */
  attach(config: MethodConfig, seed = 0): Attached {
    this.detach();
    const def = trainableDef(this.arch, config);
    const maxBytes = maxBufferBytes(this.gpu, this.loadOptions);
    const layout = layoutParams(def.specs, maxBytes);
    const params = new ParamStore(this.gpu, layout, 'trainable');
    const grads = new ParamStore(this.gpu, layout, 'grads');
    if (config.peft_type === 'FULL') {
      // The trainable store is all f32. With an all-f32 base the layouts are identical and a buffer
      // copy does; f16 base tensors are decoded tensor by tensor (their chunks hold other rows).
      if (this.base.layout.bufferSizes.every((s, i) => s === layout.bufferSizes[i]) && [...this.base.layout.entries.values()].every((e) => e.dtype === 'f32')) {
        const enc = this.gpu.device.createCommandEncoder({ label: 'full fine-tuning: copy base weights' });
        this.base.buffers.forEach((b, i) => enc.copyBufferToBuffer(b, 0, params.buffers[i], 0, b.size));
        this.gpu.device.queue.submit([enc.finish()]);
      } else {
        const rec = new Recorder(this.gpu, 'full fine-tuning: decode base weights');
        for (const spec of def.specs) this.base.copyTo(rec, params, spec.name);
        rec.submit();
      }
    } else {
      for (const [name, data] of def.init(seed)) params.write(name, data);
    }
    this.attached = { def, params, grads };
    this.rebind();
    return this.attached;
  }

  detach(): void {
    if (!this.attached) return;
    this.unmergeLora();
    this.attached.params.destroy();
    this.attached.grads.destroy();
    this.attached = null;
    this.rebind();
  }

  /**
   * PEFT's merge_and_unload without the unload: W' = W + scaling·B·A for every LoRA projection, into
   * copies of the targeted weights, which the forward then reads instead of running the LoRA branch
   * (faster generation). The base weights are untouched; unmergeLora() drops the copies. Merged
   * weights are a snapshot: training unmerges first.
   */
  mergeLora(): void {
    const a = this.attached;
    if (!a || a.def.config.peft_type !== 'LORA') throw new Error('mergeLora: no LoRA adapter is attached');
    this.unmergeLora();
    const lora = a.def.config;
    const modules = new Set(loraModules(this.arch, lora).map((m) => m.module));
    const specs = this.arch.params.filter((p) => [...modules].some((m) => p.name === `${m}.weight`));
    const merged = new ParamStore(this.gpu, layoutParams(specs, maxBufferBytes(this.gpu, this.loadOptions)), 'merged');
    const rec = new Recorder(this.gpu, 'merge LoRA');
    for (const spec of specs) {
      // W' starts as an f32 copy of W (decoded when W is stored f16), then gains scaling·B·A block by
      // block (B's row blocks = W's).
      const dst = merged.chunks(spec.name);
      this.base.copyTo(rec, merged, spec.name);
      const module = spec.name.slice(0, -'.weight'.length);
      const keys = loraKeys(module);
      const A = a.params.tensor(keys.A); // (r,in)
      const Bchunks = a.params.chunks(keys.B); // (out,r), in q|k|v blocks for GPT-2's c_attn
      for (const c of dst) {
        // The rows of B for this chunk of W (a whole block of B, or a slice copied to scratch when
        // W is split over bindings at rows B is not).
        const bc = Bchunks.find((b) => b.rowStart <= c.rowStart && c.rowStart + c.rows <= b.rowStart + b.rows)!;
        let B = bc.tensor;
        if (bc.rowStart !== c.rowStart || bc.rows !== c.rows) {
          B = reshape(this.gpu.scratch('merge:B', c.rows * lora.r), [c.rows, lora.r]);
          rec.copy({ ...bc.tensor, shape: [c.rows, lora.r], offset: bc.tensor.offset + (c.rowStart - bc.rowStart) * lora.r * 4 }, B);
        }
        gemm(rec, c.tensor, B, A, { M: c.rows, N: c.tensor.shape[1], K: lora.r }, { alpha: loraScaling(lora), beta: 1 });
      }
    }
    rec.submit();
    this.merged = merged;
    this.rebind();
  }

  unmergeLora(): void {
    if (!this.merged) return;
    this.merged.destroy();
    this.merged = null;
    this.rebind();
  }

  private rebind(): void {
    const a = this.attached;
    this.transformer.binding = bindModel(this.arch, this.base, a?.def.config ?? null, a?.params ?? null, a?.grads ?? null);
    if (this.merged) {
      const merged = this.merged;
      for (const layer of this.transformer.binding.layers) {
        for (const lin of [layer.q, layer.k, layer.v, layer.o, ...layer.mlpIn, layer.mlpOut]) {
          if (!lin.lora) continue;
          // The merged copy is f32: it may need row chunks where an f16 base weight bound whole.
          if (lin.def.blocks === 1 && merged.entry(lin.def.weight).chunks.length > 1) {
            lin.split = { chunks: merged.chunks(lin.def.weight), grads: null };
            lin.weight = lin.split.chunks[0].tensor;
          } else {
            lin.split = null;
            lin.weight = merged.block(lin.def.weight, lin.def.block, lin.def.blocks);
          }
          lin.lora = null;
        }
      }
    }
    for (const x of this.acts.values()) x.destroy();
    this.acts.clear();
  }

  /** Activations for (B,T), cached per shape (training ones keep every layer for the backward). */
  activations(B: number, T: number, training: boolean): Activations {
    const key = `${B}x${T}:${training}`;
    let a = this.acts.get(key);
    if (!a) {
      a = new Activations(this.gpu, this.cfg, this.transformer.binding, B, T, training, this.loadOptions.headBytes);
      this.acts.set(key, a);
    }
    return a;
  }

  /** Frees cached activations (e.g. after a shape is no longer used). */
  releaseActivations(): void {
    for (const x of this.acts.values()) x.destroy();
    this.acts.clear();
  }

  /** GPU bytes held: base weights, trainable parameters and gradients, cached activations. */
  get bytes(): number {
    let n = this.base.bytes;
    if (this.attached) n += this.attached.params.bytes + this.attached.grads.bytes;
    for (const a of this.acts.values()) n += a.bytes;
    return n;
  }

  /**
   * `count` sets of input tensors for (B,T). Each micro-batch of a step needs its own, since
   * queue.writeBuffer lands before the command buffer that reads them runs.
   */
  inputTensors(B: number, T: number, count: number): InputSet[] {
    const key = `${B}x${T}`;
    const N = B * T;
    const list = this.inputs.get(key) ?? [];
    while (list.length < count) {
      const iota = list[0]?.iota ?? createTensor(this.gpu, [N + 1], 'u32', 'iota');
      if (!list.length) {
        const v = Uint32Array.from({ length: N + 1 }, (_, i) => i);
        writeBuffer(this.gpu, iota.buffer, 0, v);
      }
      list.push({
        ids: createTensor(this.gpu, [B, T], 'i32', 'ids'),
        positions: createTensor(this.gpu, [B, T], 'i32', 'positions'),
        targets: createTensor(this.gpu, [B, T], 'i32', 'targets'),
        rows: createTensor(this.gpu, [N], 'i32', 'loss rows'),
        ctargets: createTensor(this.gpu, [N], 'i32', 'loss targets'),
        iota,
        reference: createTensor(this.gpu, [B], 'f32', 'reference logps'),
        last: createTensor(this.gpu, [B], 'i32', 'last tokens'),
      });
    }
    this.inputs.set(key, list);
    return list.slice(0, count);
  }

  /**
   * Writes host arrays into input tensors; positions default to 0..T-1 in every row. With targets,
   * also the compacted list of positions whose loss counts (HeadInputs) the loss reads, and each row's
   * last token (lastTokens) the reward head reads; with
   * `reference` (B), the rows' reference log-probabilities a preference loss reads.
   */
  writeInputs(
    t: InputSet,
    ids: Int32Array,
    targets?: Int32Array,
    positions?: Int32Array,
    reference?: Float32Array,
  ): ForwardInputs & { head: HeadInputs; reference: Tensor } {
    const [B, T] = t.ids.shape;
    const pos = positions ?? Int32Array.from({ length: B * T }, (_, i) => i % T);
    const put = (x: Tensor, a: Int32Array) => writeBuffer(this.gpu, x.buffer, 0, a);
    put(t.ids, ids);
    put(t.positions, pos);
    if (reference) {
      if (reference.length !== B) throw new Error(`writeInputs: ${reference.length} reference log-probs for ${B} rows`);
      writeBuffer(this.gpu, t.reference.buffer, 0, reference);
    }
    let count = 0;
    if (targets) {
      put(t.targets, targets);
      put(t.last, lastTokens(targets, B, T));
      const rows: number[] = [];
      for (let i = 0; i < targets.length; i++) if (targets[i] !== IGNORE_INDEX) rows.push(i);
      count = rows.length;
      if (count) {
        put(t.rows, Int32Array.from(rows));
        put(t.ctargets, Int32Array.from(rows, (i) => targets[i]));
      }
    }
    return {
      ids: t.ids,
      positions: t.positions,
      hostIds: ids,
      hostPositions: pos,
      head: { rows: t.rows, targets: t.ctargets, count, iota: t.iota, last: t.last },
      reference: t.reference,
    };
  }

  /** Logits (B·T·V) of one batch, read back: for tests, evaluation and checks against references. */
  async logits(ids: Int32Array, B: number, T: number): Promise<Float32Array> {
    const acts = this.activations(B, T, false);
    const [inputs] = this.inputTensors(B, T, 1);
    const inp = this.writeInputs(inputs, ids);
    const out = createTensor(this.gpu, [B * T, this.cfg.vocabSize], 'f32', 'logits out');
    try {
      const rec = new Recorder(this.gpu, 'logits');
      this.transformer.forward(rec, acts, inp);
      this.transformer.logits(rec, acts, out);
      rec.submit();
      return await readF32(this.gpu, out);
    } finally {
      out.buffer.destroy();
    }
  }

  /** Mean cross-entropy over the positions whose target is not -100 (no gradient). */
  async loss(ids: Int32Array, targets: Int32Array, B: number, T: number): Promise<number> {
    const acts = this.activations(B, T, false);
    const [inputs] = this.inputTensors(B, T, 1);
    const inp = this.writeInputs(inputs, ids, targets);
    const rec = new Recorder(this.gpu, 'loss');
    this.transformer.forward(rec, acts, inp);
    this.transformer.loss(rec, acts, inp.head, { backward: false });
    rec.submit();
    return (await readF32(this.gpu, acts.loss))[0];
  }

  destroy(): void {
    this.detach();
    this.releaseActivations();
    for (const list of this.inputs.values()) {
      for (const t of list) for (const x of [t.ids, t.positions, t.targets, t.rows, t.ctargets, t.reference, t.last]) x.buffer.destroy();
      list[0]?.iota.buffer.destroy();
    }
    this.inputs.clear();
    this.transformer.destroy();
    this.base.destroy();
  }
}

/**
 * Each row's last token as a flat position b·T+t, −1 for a row with no counted target. A row's
 * counted targets end where its sequence does (targets[t] is the token at t+1, and padding never
 * counts), so the last token sits one past the last counted target — or at T−1 when the sequence was
 * cut there. That token's final hidden state is what a sequence classifier reads (transformers pools
 * the last non-padding token).
 */
export function lastTokens(targets: Int32Array, B: number, T: number): Int32Array {
  const out = new Int32Array(B).fill(-1);
  for (let b = 0; b < B; b++) {
    for (let t = T - 1; t >= 0; t--) {
      if (targets[b * T + t] !== IGNORE_INDEX) {
        out[b] = b * T + Math.min(t + 1, T - 1);
        break;
      }
    }
  }
  return out;
}

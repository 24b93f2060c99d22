// The base runtime: the pretrained model as Hugging Face ships it, run by transformers.js (tokenizer,
// chat template, KV-cached decoding) on onnxruntime — WebGPU or WASM in the browser, onnxruntime-node
// on CPU in Node (the unit tests). It is the trusted reference the engine is checked against.
//
// Sampling is ours (./sampling.ts): transformers.js 4.3 has no seed and no top-p, so generation runs in
// its greedy mode behind a logits processor that draws the token with a seeded RNG and leaves only that
// token finite. Temperature 0 skips the processor: plain greedy decoding, as PyTorch's.
//
// A model with no ONNX graph (one made in this browser) loads in an ONNX-less mode: the tokenizer, the
// chat template and config.json only. Its generate() and logits() refuse; the worker sends those
// requests to the engine with no adapter instead (worker/base-handlers.ts, engine-handlers.ts).

import {
  AutoConfig,
  AutoModelForCausalLM,
  AutoTokenizer,
  BaseStreamer,
  LogitsProcessor,
  LogitsProcessorList,
  StoppingCriteria,
  Tensor,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type ProgressInfo,
  type TextStreamer,
} from '@huggingface/transformers';
import { hasOnnx, type ModelDtype, type ModelSource, type ModelSpec } from './catalog.ts';
import { chatTemplateFromTokenizer } from '../data/templates.ts';
import { checkHubModel, configureModelSource, explainHubFailure, renderPrompt, type ModelTokenizer, type RenderedPrompt } from './model-source.ts';
import { TextStream, type GenerationResult, type StopReason, type StreamedToken } from '../generate/stream.ts';

export type { GenerationResult, StopReason, StreamedToken };
import { isGreedy, normalizeSampling, sampleToken, type SamplingOptions } from '../generate/sampling.ts';
import { createRng, type Rng } from '../random.ts';

/** Where the model runs. 'cpu' is onnxruntime-node (Node only). */
export type Backend = 'webgpu' | 'wasm' | 'cpu';

export interface LoadOptions {
  model: ModelSpec;
  backend: Backend;
  /** The WebGPU adapter has shader-f16 (picks the model's f16 weights when it has them). */
  f16?: boolean;
  /** URL (browser) or folder (Node) holding the shipped models: <localModels>/<id>/config.json. */
  localModels: string;
  /** Host serving the Hub's layout <host>/<id>/resolve/main/<file>; Hugging Face by default. */
  hubHost?: string;
  /** Keep hub downloads in the browser's Cache API when it has one (never for shipped models). */
  cacheHub?: boolean;
  /** Node only: folder for hub downloads (onnxruntime-node opens the model from a file). */
  cacheDir?: string;
  onProgress?: (progress: LoadProgress) => void;
}

/** Bytes loaded so far over all files seen so far. */
export interface LoadProgress {
  file: string;
  loaded: number;
  total: number;
}

export interface LoadedModel {
  id: string;
  source: ModelSource;
  backend: Backend;
  /** The ONNX weights onnxruntime runs; null when the model has none (the engine serves its base). */
  dtype: ModelDtype | null;
  /** The tokenizer has a chat template. */
  hasChatTemplate: boolean;
  /** End-of-sequence token ids from generation_config.json / config.json. */
  eosTokenIds: number[];
  vocabSize: number;
  loadMs: number;
}

export interface GenerateOptions extends SamplingOptions {
  /** Render the prompt as a user turn with the tokenizer's chat template. */
  chat: boolean;
}

/** The dtype a model loads with on a backend. */
export function chooseDtype(model: ModelSpec, backend: Backend, f16 = false): ModelDtype {
  if (backend === 'webgpu') return (f16 && model.dtype.webgpuF16) || model.dtype.webgpu;
  return model.dtype.wasm;
}

/** Draws each token with the seeded sampler and masks every other logit to -inf (so greedy picks it). */
class SeededSampler extends LogitsProcessor {
  readonly options: SamplingOptions;
  readonly rng: Rng;

  constructor(options: SamplingOptions) {
    super();
    this.options = options;
    this.rng = createRng(options.seed);
  }

  override _call(_inputIds: bigint[][], logits: Tensor): Tensor {
    const V = logits.dims[logits.dims.length - 1];
    const data = logits.data as Float32Array; // (B,V)
    for (let offset = 0; offset < data.length; offset += V) {
      const row = data.subarray(offset, offset + V);
      const id = sampleToken(row, this.options, this.rng);
      row.fill(-Infinity);
      row[id] = 0;
    }
    return logits;
  }
}

/** Stops every sequence once the signal is aborted (checked after each token). */
class AbortCriteria extends StoppingCriteria {
  readonly signal: AbortSignal;

  constructor(signal: AbortSignal) {
    super();
    this.signal = signal;
  }

  override _call(inputIds: number[][]): boolean[] {
    return inputIds.map(() => this.signal.aborted);
  }
}

/** Hands each generated token to a TextStream (transformers.js first echoes the prompt: skipped). */
class TokenStreamer extends BaseStreamer {
  private seenPrompt = false;

  constructor(readonly stream: TextStream) {
    super();
  }

  override put(value: bigint[][]): void {
    if (!this.seenPrompt) {
      this.seenPrompt = true;
      return;
    }
    this.stream.push(Number(value[0][0]));
  }

  override end(): void {}
}

function toIdList(x: unknown): number[] {
  if (typeof x === 'number') return [x];
  if (Array.isArray(x)) return x.map(Number);
  return [];
}

/** One loaded model. Load with BaseRuntime.load(); one generate() at a time. */
export class BaseRuntime {
  readonly info: LoadedModel;
  /** The tokenizer and chat template prompts are rendered with (the engine's generation uses them too). */
  readonly prompts: Pick<ModelTokenizer, 'hf' | 'chatTemplate'>;
  /** null in the ONNX-less mode: a model onnxruntime cannot run. */
  private readonly model: PreTrainedModel | null;
  private busy = false;

  private constructor(info: LoadedModel, tokenizer: PreTrainedTokenizer, model: PreTrainedModel | null) {
    this.info = info;
    this.prompts = { hf: tokenizer, chatTemplate: info.hasChatTemplate ? chatTemplateFromTokenizer(tokenizer) : null };
    this.model = model;
  }

  static async load(options: LoadOptions): Promise<BaseRuntime> {
    const { model, backend } = options;
    const started = performance.now();
    await configureModelSource(options.model.source, options);

    const files = new Map<string, { loaded: number; total: number }>();
    const progress_callback = (p: ProgressInfo) => {
      if (p.status !== 'progress' && p.status !== 'done') return;
      const entry = files.get(p.file) ?? { loaded: 0, total: 0 };
      if (p.status === 'progress') {
        entry.loaded = p.loaded;
        entry.total = p.total;
      } else {
        entry.loaded = entry.total;
      }
      files.set(p.file, entry);
      let loaded = 0;
      let total = 0;
      for (const f of files.values()) {
        loaded += f.loaded;
        total += f.total;
      }
      options.onProgress?.({ file: p.file, loaded, total });
    };

    const onnx = hasOnnx(model);
    const dtype = onnx ? chooseDtype(model, backend, options.f16) : null;
    // A hub model is looked for first, so a wrong id, no network or a blocked download is said plainly.
    // The ONNX export may live in a repo of its own (catalog.ts ModelSpec.onnx).
    const repo = model.onnx ?? model.id;
    if (model.source === 'hub') await checkHubModel(repo, options.hubHost);
    let tokenizer: PreTrainedTokenizer;
    let lm: PreTrainedModel | null = null;
    let modelConfig: unknown;
    try {
      tokenizer = await AutoTokenizer.from_pretrained(repo, { progress_callback });
      if (dtype !== null) {
        lm = await AutoModelForCausalLM.from_pretrained(repo, { device: backend, dtype, progress_callback });
        modelConfig = lm.config;
      } else {
        modelConfig = await AutoConfig.from_pretrained(repo, { progress_callback });
      }
    } catch (e) {
      throw model.source === 'hub' ? await explainHubFailure(e, repo, options.hubHost) : e;
    }
    if (lm) yieldBeforeEachForward(lm);
    const genConfig = (lm as unknown as { generation_config?: { eos_token_id?: unknown } } | null)?.generation_config;
    const config = modelConfig as { eos_token_id?: unknown; vocab_size?: number };
    const eos = toIdList(genConfig?.eos_token_id ?? config.eos_token_id);
    const info: LoadedModel = {
      id: model.id,
      source: model.source,
      backend,
      dtype,
      hasChatTemplate: Boolean((tokenizer as unknown as { chat_template?: unknown }).chat_template),
      eosTokenIds: eos,
      vocabSize: config.vocab_size ?? 0,
      loadMs: performance.now() - started,
    };
    return new BaseRuntime(info, tokenizer, lm);
  }

  /** onnxruntime runs this model (false in the ONNX-less mode). */
  get hasOnnx(): boolean {
    return this.model !== null;
  }

  /** The ONNX model, or a refusal that says the engine serves this model's base. */
  private onnxModel(): PreTrainedModel {
    if (!this.model) throw new Error(`${this.info.id} has no ONNX graph: onnxruntime cannot run it (the engine serves its base)`);
    return this.model;
  }

  /** The prompt as the model will see it, and its ids (model-source.ts renderPrompt). */
  renderPrompt(prompt: string, chat: boolean): RenderedPrompt {
    const p = renderPrompt(this.prompts, prompt, chat);
    if (p.ids.length === 0) throw new Error('the prompt is empty: type something for the model to continue');
    return p;
  }

  decode(ids: number[]): string {
    return this.prompts.hf.decode(ids, { skip_special_tokens: true });
  }

  /**
   * Generates a continuation of `prompt`, calling onToken for every new token. The same options (seed
   * included) on the same backend give the same tokens. Abort the signal to stop early.
   */
  async generate(
    prompt: string,
    options: GenerateOptions,
    onToken: (token: StreamedToken) => void = () => {},
    signal: AbortSignal = new AbortController().signal,
  ): Promise<GenerationResult> {
    const model = this.onnxModel();
    if (this.busy) throw new Error('the model is already generating; stop it first');
    this.busy = true;
    try {
      const sampling = normalizeSampling(options);
      const rendered = this.renderPrompt(prompt, options.chat);

      const stream = new TextStream((ids) => this.decode(ids), onToken);
      const processors = new LogitsProcessorList();
      if (!isGreedy(sampling)) processors.push(new SeededSampler(sampling));
      await model.generate({
        input_ids: tensorFromIds(rendered.ids), // (1,T)
        attention_mask: tensorFromIds(rendered.ids.map(() => 1)), // (1,T)
        max_new_tokens: sampling.maxNewTokens,
        do_sample: false,
        logits_processor: processors,
        stopping_criteria: [new AbortCriteria(signal)],
        // The typings intersect with GenerationConfig.streamer (a TextStreamer); any BaseStreamer works.
        streamer: new TokenStreamer(stream) as unknown as TextStreamer,
      });
      const ids = stream.ids;
      const last = ids[ids.length - 1];
      const stopReason: StopReason = this.info.eosTokenIds.includes(last) ? 'eos' : ids.length >= sampling.maxNewTokens ? 'length' : 'stopped';
      return stream.finish(rendered, stopReason);
    } finally {
      this.busy = false;
    }
  }

  /**
   * Logits (T·V) of one forward pass over `ids` without a cache: the reference the engine's base
   * logits are checked against.
   */
  async logits(ids: number[]): Promise<Float32Array> {
    const input_ids = tensorFromIds(ids);
    const attention_mask = tensorFromIds(ids.map(() => 1));
    const outputs = (await this.onnxModel().forward({ input_ids, attention_mask })) as Record<string, Tensor>;
    const data = Float32Array.from(outputs.logits.data as Float32Array);
    for (const t of Object.values(outputs)) t.dispose?.();
    return data;
  }

  async dispose(): Promise<void> {
    await this.model?.dispose();
  }
}

/**
 * Lets the worker read its messages between two decoding steps. On WASM a forward pass can finish
 * without ever returning to the event loop, so a whole generation would run before a `cancel` message
 * is seen; one macrotask per step fixes that. A MessageChannel message, unlike setTimeout(0), is not
 * clamped to 4 ms.
 */
function yieldBeforeEachForward(model: PreTrainedModel): void {
  const target = model as unknown as { forward(inputs: unknown): Promise<unknown> };
  const forward = target.forward.bind(model);
  target.forward = async (inputs: unknown) => {
    await yieldToEventLoop();
    return forward(inputs);
  };
}

let channel: MessageChannel | null = null;
const waiting: (() => void)[] = [];

function yieldToEventLoop(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((resolve) => setTimeout(resolve, 0));
  if (!channel) {
    channel = new MessageChannel();
    channel.port1.onmessage = () => waiting.shift()?.();
    // Node: an open port would keep the process alive; unref it (browsers have no unref).
    (channel.port1 as unknown as { unref?: () => void }).unref?.();
  }
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel!.port2.postMessage(null);
  });
}

/** (1,T) int64 tensor of token ids. */
function tensorFromIds(ids: number[]): Tensor {
  return new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
}

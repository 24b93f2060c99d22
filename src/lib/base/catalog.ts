// The models the picker offers. The shipped model is served by the app itself (models/<id>/, copied into
// dist/ at build time) and loads with no network; hub models download from Hugging Face (or a mirror);
// models made in this browser (the New model panel) are read from IndexedDB (store/models.ts).

/**
 * Where a model's files come from: the app itself, a hub, or this browser's IndexedDB (a model made
 * here: a Hugging Face folder with no ONNX graph, so only the engine runs it).
 */
export type ModelSource = 'shipped' | 'hub' | 'browser';

/** Weight formats transformers.js can load (the suffix of onnx/model<suffix>.onnx). */
export type ModelDtype = 'fp32' | 'fp16' | 'q8' | 'q4' | 'q4f16';

/** Which ONNX file to load on each backend; `webgpuF16` is used when the adapter has shader-f16. */
export interface DtypeChoice {
  webgpu: ModelDtype;
  webgpuF16?: ModelDtype;
  wasm: ModelDtype;
}

export interface ModelSpec {
  /** Folder name under models/ for shipped models, Hugging Face repo id for hub models, the store's id for browser models. */
  id: string;
  source: ModelSource;
  dtype: DtypeChoice;
  /** Wrap the prompt in the tokenizer's chat template by default (instruction-tuned models). */
  chat: boolean;
}

export interface CatalogEntry extends ModelSpec {
  label: string;
  description: string;
  /** Download size of the weights the default backend loads, for the picker. */
  size: string;
}

export const DEFAULT_MODEL_ID = 'brown-llama-4m';

export const CATALOG: readonly CatalogEntry[] = [
  {
    id: DEFAULT_MODEL_ID,
    source: 'shipped',
    label: 'Brown Llama 4M',
    description: 'A 4M-parameter Llama trained on the Brown corpus. Ships with the app, works offline.',
    size: '16 MB',
    dtype: { webgpu: 'fp32', wasm: 'fp32' },
    chat: false,
  },
  {
    id: 'HuggingFaceTB/SmolLM2-135M-Instruct',
    source: 'hub',
    label: 'SmolLM2 135M Instruct',
    description: 'Hugging Face’s small instruction-tuned Llama. Downloads from the Hub once.',
    size: '≈120 MB',
    dtype: { webgpu: 'q4', webgpuF16: 'q4f16', wasm: 'q8' },
    chat: true,
  },
  {
    id: 'HuggingFaceTB/SmolLM2-360M-Instruct',
    source: 'hub',
    label: 'SmolLM2 360M Instruct',
    description: 'The larger SmolLM2: better answers, slower. Downloads from the Hub once.',
    size: '≈260 MB',
    dtype: { webgpu: 'q4', webgpuF16: 'q4f16', wasm: 'q8' },
    chat: true,
  },
];

export function findModel(id: string): CatalogEntry | undefined {
  return CATALOG.find((m) => m.id === id);
}

/**
 * A spec for any Hugging Face repo with an onnx/ folder (typed in by the user or given in the URL),
 * loading onnx/model.onnx (fp32) unless a dtype is given.
 */
export function hubModel(id: string, dtype: ModelDtype = 'fp32', chat = false): ModelSpec {
  return { id, source: 'hub', dtype: { webgpu: dtype, wasm: dtype }, chat };
}

/** A Hugging Face repo id: owner/name, letters, digits, '-', '_', '.'. */
export function isHubModelId(id: string): boolean {
  return /^[\w.-]+\/[\w.-]+$/.test(id) && !id.includes('..');
}

/**
 * A model made in this browser, by its id in the models store. It has no ONNX graph: `dtype` is never
 * used (the base runtime loads its tokenizer and config only). No chat template: pretraining makes none.
 */
export function browserModel(id: string): ModelSpec {
  return { id, source: 'browser', dtype: { webgpu: 'fp32', wasm: 'fp32' }, chat: false };
}

/** Whether onnxruntime-web can run the model (models made in this browser have no ONNX graph). */
export function hasOnnx(model: Pick<ModelSpec, 'source'>): boolean {
  return model.source !== 'browser';
}

/** The spec of a loaded model from its id and source (a catalog entry, a made model, or a hub repo). */
export function specFor(loaded: { id: string; source: ModelSource }): ModelSpec {
  if (loaded.source === 'browser') return browserModel(loaded.id);
  return findModel(loaded.id) ?? hubModel(loaded.id);
}

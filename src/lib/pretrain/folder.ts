// A whole model as a Hugging Face folder: what pretraining and full fine-tuning produce instead of an
// adapter. config.json and generation_config.json come from the model the run started from (a new
// model's or the base folder's), model.safetensors from the engine's trained weights (Hugging Face
// names and [out, in] shapes: Engine.exportWeights with FULL attached), and the tokenizer files are
// copied unchanged. No onnx/: onnxruntime-web has no graph for these weights, so the page's compare
// view runs the engine for the base side of such a model (ModelPanel says so).

import type { ExportedTensor } from '../engine.ts';
import { writeSafetensors, type TensorToWrite } from '../model/safetensors-write.ts';

export interface FolderFile {
  name: string;
  data: Uint8Array | string;
}

/** The tokenizer files a folder carries (the ones transformers.js and transformers read). */
export const TOKENIZER_FILE_NAMES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'] as const;

export interface FolderSource {
  /** config.json (object or its text) of the model the run trained */
  config: Record<string, unknown> | string;
  generationConfig?: Record<string, unknown> | string;
  /** the tokenizer files, copied as they are */
  tokenizer: FolderFile[];
  /** free text kept in model.safetensors' __metadata__ (e.g. how the weights were made) */
  metadata?: Record<string, string>;
}

const json = (v: Record<string, unknown> | string) => (typeof v === 'string' ? v : JSON.stringify(v, null, 2) + '\n');

/** The folder's files: config.json, generation_config.json, model.safetensors (F32) and the tokenizer's. */
export function modelFolderFiles(weights: Map<string, ExportedTensor>, source: FolderSource): FolderFile[] {
  if (weights.size === 0) throw new Error('modelFolderFiles: no weights (is full fine-tuning attached?)');
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, t] of weights) tensors.set(name, { dtype: 'F32', shape: t.shape, data: t.data });
  const files: FolderFile[] = [
    { name: 'config.json', data: json(source.config) },
    { name: 'model.safetensors', data: writeSafetensors(tensors, { format: 'pt', ...source.metadata }) },
  ];
  if (source.generationConfig !== undefined) files.push({ name: 'generation_config.json', data: json(source.generationConfig) });
  for (const f of source.tokenizer) if (!files.some((g) => g.name === f.name)) files.push(f);
  return files;
}

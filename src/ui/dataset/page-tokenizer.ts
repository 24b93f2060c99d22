// The loaded model's tokenizer, chat template and config.json in the page itself, for the dataset
// preview (token counts, which tokens the loss counts) and for the method panel (module names, sizes).
//
// Why in the page and not in the worker: the worker is busy with the model (generation, later
// training) and answers one request at a time; a tokenizer is a few hundred KB and tokenizing a
// dataset of a few thousand examples takes milliseconds. Large files never freeze the page because
// data/tokenize.ts gives the event loop a turn every 200 examples. transformers.js is imported
// lazily (lib/base/model-source.ts), so the page's first paint does not wait for it.

import type { ModelSpec } from '../../lib/base/catalog.ts';
import { loadModelTokenizer, type ModelTokenizer } from '../../lib/base/model-source.ts';

export type PageTokenizer = ModelTokenizer;

export interface TokenizerSource {
  /** URL (browser) or folder (Node) holding the shipped models: <localModels>/<id>/tokenizer.json. */
  localModels: string;
  /** Host serving the Hub's layout; Hugging Face when absent. */
  hubHost?: string;
}

/**
 * Loads the tokenizer and config.json of a model from where the base runtime loads them (the same
 * transformers.js settings, lib/base/model-source.ts: shipped models from the app's own models/
 * folder with no network, hub models from the hub or its mirror).
 */
export function loadPageTokenizer(spec: ModelSpec, source: TokenizerSource): Promise<PageTokenizer> {
  return loadModelTokenizer(spec, source);
}

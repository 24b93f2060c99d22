// The loaded model's tokenizer, chat template and config.json in the page itself, for the dataset
// preview (token counts, which tokens the loss counts) and for the method panel (module names, sizes).
//
// Why in the page and not in the worker: the worker is busy with the model (generation, later
// training) and answers one request at a time; a tokenizer is a few hundred KB and tokenizing a
// dataset of a few thousand examples takes milliseconds. Large files never freeze the page because
// data/tokenize.ts gives the event loop a turn every 200 examples. transformers.js is imported
// lazily, so the page's first paint does not wait for it.

import type { ModelSpec } from '../../lib/base/catalog.ts';
import { configureSource } from '../../lib/base/source.ts';
import { chatTemplateFromTokenizer, type ChatTemplateFn, fromTransformersTokenizer, type TextTokenizer } from '../../lib/data';
import { parseModelConfig, type ModelConfig } from '../../lib/model/config.ts';

export interface PageTokenizer {
  modelId: string;
  tokenizer: TextTokenizer;
  /** null when the model has no chat_template ({messages} data cannot be rendered then). */
  chatTemplate: ChatTemplateFn | null;
  config: ModelConfig;
}

export interface TokenizerSource {
  /** URL (browser) or folder (Node) holding the shipped models: <localModels>/<id>/tokenizer.json. */
  localModels: string;
  /** Host serving the Hub's layout; Hugging Face when absent. */
  hubHost?: string;
}

/**
 * Loads the tokenizer and config.json of a model from where the base runtime loads them (the same
 * transformers.js settings as src/lib/base/runtime.ts: shipped models from the app's own models/
 * folder with no network, hub models from the hub or its mirror).
 */
export async function loadPageTokenizer(spec: ModelSpec, source: TokenizerSource): Promise<PageTokenizer> {
  const { AutoConfig, AutoTokenizer, env } = await import('@huggingface/transformers');
  configureSource(env, { model: spec, localModels: localPath(source.localModels), hubHost: source.hubHost });
  const [hf, config] = await Promise.all([AutoTokenizer.from_pretrained(spec.id), AutoConfig.from_pretrained(spec.id)]);
  const hasTemplate = Boolean((hf as unknown as { chat_template?: unknown }).chat_template);
  return {
    modelId: spec.id,
    tokenizer: fromTransformersTokenizer(hf),
    chatTemplate: hasTemplate ? chatTemplateFromTokenizer(hf) : null,
    config: parseModelConfig(config as unknown as Record<string, unknown>),
  };
}

/**
 * transformers.js 4.3 reads "local" models only from a path, never from an http(s) URL (it skips its
 * local lookup for URLs), so a models folder on this site becomes its path (as the worker does it,
 * worker/base-handlers.ts). A folder (Node) is kept as it is.
 */
function localPath(where: string): string {
  if (!/^https?:/.test(where) || typeof location === 'undefined') return where;
  const url = new URL(where, location.href);
  if (url.origin !== location.origin) throw new Error(`the models folder ${where} is not on this site`);
  return url.pathname;
}

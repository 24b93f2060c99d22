// Where transformers.js reads a model from, set in one place for everything that loads one through it:
// the base runtime (worker), the page's tokenizer (dataset preview, method panel) and the command line.
//
//   shipped  a local models folder: <localModels>/<id>/… — the app's own models/ (a URL or path on
//            this site in the browser) or any folder in Node (the command line's --model DIR is
//            <parent>/<name>). Never the network, never a cache: the files are already local.
//   hub      a host in the Hub's layout, <host>/<id>/resolve/main/<file>: huggingface.co or a mirror;
//            downloads cached in the browser's Cache API, or in a folder in Node (onnxruntime-node
//            opens models from files).
//
// transformers.js is imported lazily, so the page's first paint does not wait for it.

import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { chatTemplateFromTokenizer, type ChatTemplateFn, fromTransformersTokenizer, type TextTokenizer } from '../data';
import { parseModelConfig, type ModelConfig } from '../model/config.ts';
import type { ModelSource } from './catalog.ts';

export interface SourceOptions {
  /** URL (browser) or folder (Node) holding the shipped models: <localModels>/<id>/config.json. */
  localModels: string;
  /** Host serving the Hub's layout <host>/<id>/resolve/main/<file>; Hugging Face by default. */
  hubHost?: string;
  /** Keep hub downloads in the browser's Cache API (by default when the browser has one). */
  cacheHub?: boolean;
  /** Node only: folder for hub downloads. */
  cacheDir?: string;
}

export const HUGGING_FACE_HUB = 'https://huggingface.co/';

const withSlash = (s: string) => (s.endsWith('/') ? s : s + '/');

/**
 * transformers.js 4.3 reads "local" models only from a path, never from an http(s) URL (it skips its
 * local lookup for URLs), so a models folder on this site becomes its path. A path or a folder (Node)
 * is kept as it is.
 */
export function localModelsPath(where: string): string {
  if (!/^https?:/.test(where) || typeof location === 'undefined') return where;
  const url = new URL(where, location.href);
  if (url.origin !== location.origin) throw new Error(`the models folder ${where} is not on this site`);
  return url.pathname;
}

/** Points transformers.js at the local models folder or at a hub, never at both. */
export async function configureModelSource(source: ModelSource, options: SourceOptions): Promise<void> {
  const { env } = await import('@huggingface/transformers');
  if (source === 'shipped') {
    env.allowLocalModels = true;
    env.allowRemoteModels = false;
    env.localModelPath = withSlash(localModelsPath(options.localModels));
    env.useBrowserCache = false; // local files: the HTTP cache is enough
    env.useFSCache = false;
  } else {
    env.allowLocalModels = false;
    env.allowRemoteModels = true;
    env.remoteHost = withSlash(options.hubHost ?? HUGGING_FACE_HUB);
    env.useBrowserCache = options.cacheHub ?? typeof caches !== 'undefined';
    // Node: onnxruntime-node opens models from files, so downloads go to a folder — never node_modules.
    env.useFSCache = options.cacheDir !== undefined;
    if (options.cacheDir !== undefined) env.cacheDir = options.cacheDir;
  }
}

/** A model's tokenizer, chat template and config.json, as transformers.js loads them. */
export interface ModelTokenizer {
  modelId: string;
  /** transformers.js's own tokenizer (special tokens, the chat template's renderer). */
  hf: PreTrainedTokenizer;
  /** The data layer's view of it. */
  tokenizer: TextTokenizer;
  /** null when the model has no chat_template ({messages} data cannot be rendered then). */
  chatTemplate: ChatTemplateFn | null;
  config: ModelConfig;
}

/** Loads the tokenizer, chat template and config.json of model `id` from `source`. */
export async function loadModelTokenizer(model: { id: string; source: ModelSource }, options: SourceOptions): Promise<ModelTokenizer> {
  const { AutoConfig, AutoTokenizer } = await import('@huggingface/transformers');
  await configureModelSource(model.source, options);
  const [hf, config] = await Promise.all([AutoTokenizer.from_pretrained(model.id), AutoConfig.from_pretrained(model.id)]);
  const hasTemplate = Boolean((hf as unknown as { chat_template?: unknown }).chat_template);
  return {
    modelId: model.id,
    hf,
    tokenizer: fromTransformersTokenizer(hf),
    chatTemplate: hasTemplate ? chatTemplateFromTokenizer(hf) : null,
    config: parseModelConfig(config as unknown as Record<string, unknown>),
  };
}

/** A prompt as a model sees it at generation time. */
export interface RenderedPrompt {
  /** The exact text (the chat template applied when it was). */
  rendered: string;
  ids: number[];
  /** Whether the chat template was applied (asked for, and the model has one). */
  chat: boolean;
}

/**
 * The prompt as generation feeds it: with `chat` and a chat template, a user turn plus the generation
 * prompt, whose special tokens the template writes itself; otherwise the text as typed, with whatever
 * special tokens the tokenizer adds (none for the default model).
 */
export function renderPrompt(t: Pick<ModelTokenizer, 'hf' | 'chatTemplate'>, prompt: string, chat: boolean): RenderedPrompt {
  const useChat = chat && t.chatTemplate !== null;
  const rendered = useChat ? t.chatTemplate!([{ role: 'user', content: prompt }], true) : prompt;
  const ids = t.hf.encode(rendered, { add_special_tokens: !useChat });
  return { rendered, ids, chat: useChat };
}

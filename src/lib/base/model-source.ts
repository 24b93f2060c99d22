// Where transformers.js reads a model from, set in one place for everything that loads one through it:
// the base runtime (worker), the page's tokenizer (dataset preview, method panel) and the command line.
//
//   shipped  a local models folder: <localModels>/<id>/… — the app's own models/ (a URL or path on
//            this site in the browser) or any folder in Node (the command line's --model DIR is
//            <parent>/<name>). Never the network, never a cache: the files are already local.
//   hub      a host in the Hub's layout, <host>/<id>/resolve/main/<file>: huggingface.co or a mirror;
//            downloads cached in the browser's Cache API, or in a folder in Node (onnxruntime-node
//            opens models from files).
//   browser  a model made in this browser, kept in IndexedDB: a virtual local folder
//            (browser-models.ts) whose files transformers.js fetches through env.fetch, which the
//            store answers. Tokenizer and config only: it has no ONNX graph.
//
// transformers.js is imported lazily, so the page's first paint does not wait for it.

import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { chatTemplateFromTokenizer, type ChatTemplateFn, fromTransformersTokenizer, type TextTokenizer } from '../data';
import { parseModelConfig, type ModelConfig } from '../model/config.ts';
import { getModel } from '../store/models.ts';
import { BROWSER_MODELS_PATH, storedModelFetch } from './browser-models.ts';
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

/** transformers.js's own fetch and file-system switch, kept before the first change (other sources get them back). */
let defaults: { fetch: (input: string | URL, init?: unknown) => Promise<unknown>; useFS: boolean } | null = null;

/** The stored folder of a model made in this browser, by id (IndexedDB). */
const storedFolder = async (id: string) => (await getModel(id))?.files ?? null;

/** Points transformers.js at one source: the local models folder, a hub, or this browser's models. */
export async function configureModelSource(source: ModelSource, options: SourceOptions): Promise<void> {
  const { env } = await import('@huggingface/transformers');
  defaults ??= { fetch: env.fetch, useFS: env.useFS };
  env.fetch = defaults.fetch;
  env.useFS = defaults.useFS;
  if (source === 'browser') {
    env.allowLocalModels = true;
    env.allowRemoteModels = false;
    env.localModelPath = BROWSER_MODELS_PATH;
    env.useBrowserCache = false; // already in this browser
    env.useFSCache = false;
    env.useFS = false; // Node (tests): fetch, which the store answers, rather than a file path
    env.fetch = storedModelFetch(storedFolder, defaults.fetch as typeof fetch);
  } else if (source === 'shipped') {
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

// ─── when a hub model cannot be loaded ───────────────────────────────────────────────────────────

/** A hub model that could not be loaded, with what was tried, why it failed and what to do. */
export class HubModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HubModelError';
  }
}

/** What checkHubModel needs of the network, replaceable in tests. */
export interface HubNetwork {
  fetch: typeof fetch;
  /** navigator.onLine where there is one: false only when the device knows it is offline. */
  online(): boolean | undefined;
  /** Whether the browser keeps this file from an earlier visit (transformers.js's Cache API bucket); none by default. */
  cached?(url: string): Promise<boolean>;
}

/** Whether transformers.js keeps `url` in the browser's Cache API (its bucket, keyed by the remote URL). */
async function inTransformersCache(url: string): Promise<boolean> {
  if (typeof caches === 'undefined') return false;
  try {
    const { env } = await import('@huggingface/transformers');
    return (await (await caches.open(env.cacheKey)).match(url)) !== undefined;
  } catch {
    return false;
  }
}

const defaultNetwork = (): HubNetwork => ({
  fetch: (...args) => fetch(...args),
  online: () => (typeof navigator !== 'undefined' && 'onLine' in navigator ? navigator.onLine : undefined),
  cached: inTransformersCache,
});

const OFFLINE_HINT = 'or pick a model that ships with the app, which needs no network';

/** Why a fetch that got no answer at all failed: offline, unreachable, or answered but blocked by the browser. */
async function noAnswer(url: string, err: unknown, net: HubNetwork): Promise<HubModelError> {
  const host = new URL(url).host;
  if (net.online() === false) return new HubModelError(`Could not fetch ${url}: there is no network (the browser says it is offline). Connect, then load again, ${OFFLINE_HINT}.`);
  const cause = (err as { cause?: unknown })?.cause as { code?: unknown; message?: unknown } | undefined;
  const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : null;
  if (why) {
    // Node says why: ENOTFOUND (no such host, or no DNS), ECONNREFUSED (nothing listening), "bad port", ...
    return new HubModelError(`Could not reach ${host} for ${url} (${why}): no network, a wrong host, or the host is down. Check the connection and the hub address, ${OFFLINE_HINT}.`);
  }
  // A browser gives the same TypeError for no network, a refused connection and a download it
  // blocked (CORS, an extension, a policy). An opaque request to the host tells them apart: it
  // succeeds when the host answers, whatever its headers.
  let answered = false;
  try {
    await net.fetch(new URL('/', url).href, { mode: 'no-cors', cache: 'no-store' });
    answered = true;
  } catch {
    answered = false;
  }
  return answered
    ? new HubModelError(
        `${host} answered, but the browser blocked the download of ${url} (its CORS headers, a content blocker or privacy extension, or a site policy). Allow ${host} for this page, ${OFFLINE_HINT}.`,
      )
    : new HubModelError(`Could not reach ${host} for ${url}: no network, or the host is down, or the browser (an extension or a policy) blocked it. Check the connection, ${OFFLINE_HINT}.`);
}

/** What an HTTP status for a model's file means, and what to do. */
function badStatus(id: string, hub: string, file: string, url: string, status: number): HubModelError {
  if (status === 404) {
    return new HubModelError(
      file === 'config.json'
        ? `${id} was not found on ${hub} (${url} answered 404 Not Found). Check the repo id: owner/name, as on the model's page, such as HuggingFaceTB/SmolLM2-135M-Instruct.`
        : `${id} on ${hub} has no ${file} (404 Not Found at ${url}). This page runs models exported to ONNX for transformers.js (an onnx/ folder); pick another repo or another weights type.`,
    );
  }
  if (status === 401 || status === 403) {
    return new HubModelError(
      `${hub} refused ${url} (HTTP ${status}): ${id} does not exist, or it is private or gated, and this page does not sign in to the Hub. Check the repo id, or pick a public model.`,
    );
  }
  return new HubModelError(`${hub} answered HTTP ${status} for ${url}: the hub is having trouble. Try again later, ${OFFLINE_HINT}.`);
}

const hubName = (hubHost: string | undefined) => (hubHost === undefined || withSlash(hubHost) === HUGGING_FACE_HUB ? 'the Hugging Face Hub' : withSlash(hubHost));

/**
 * Checks that a hub model's config.json can be fetched before transformers.js is asked for the model,
 * and throws a HubModelError saying what was tried and why it failed: not on the hub (404), private
 * or gated (401, 403), the hub failing (5xx), no network, or blocked by the browser. transformers.js
 * would only say "Failed to fetch", after several failed requests. A model the browser keeps from an
 * earlier visit needs no check: it loads from the cache, offline too.
 */
export async function checkHubModel(id: string, hubHost: string | undefined, net: HubNetwork = defaultNetwork()): Promise<void> {
  const url = `${withSlash(hubHost ?? HUGGING_FACE_HUB)}${id}/resolve/main/config.json`;
  if (await net.cached?.(url)) return;
  let res: Response;
  try {
    res = await net.fetch(url, { method: 'GET' });
  } catch (e) {
    throw await noAnswer(url, e, net);
  }
  void res.body?.cancel().catch(() => {});
  if (!res.ok) throw badStatus(id, hubName(hubHost), 'config.json', url, res.status);
}

/**
 * A failure of transformers.js while it loads a hub model, said as checkHubModel says its own: a
 * file the repo lacks (its "Could not locate file") or a fetch that got no answer. Other errors are
 * returned as they are.
 */
export async function explainHubFailure(err: unknown, id: string, hubHost: string | undefined, net: HubNetwork = defaultNetwork()): Promise<unknown> {
  const message = err instanceof Error ? err.message : String(err);
  const missing = /^(?:Could not locate file|Unauthorized access to file|Forbidden access to file): "(.+)"\.?$/.exec(message);
  if (missing) {
    const url = missing[1];
    const status = message.startsWith('Could not locate') ? 404 : message.startsWith('Unauthorized') ? 401 : 403;
    const file = url.split('/resolve/main/')[1] ?? url;
    return badStatus(id, hubName(hubHost), file, url, status);
  }
  if (err instanceof TypeError && /fetch/i.test(message)) return noAnswer(`${withSlash(hubHost ?? HUGGING_FACE_HUB)}${id}/resolve/main/`, err, net);
  return err;
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
  if (model.source === 'hub') await checkHubModel(model.id, options.hubHost);
  await configureModelSource(model.source, options);
  let hf: PreTrainedTokenizer;
  let config: unknown;
  try {
    [hf, config] = await Promise.all([AutoTokenizer.from_pretrained(model.id), AutoConfig.from_pretrained(model.id)]);
  } catch (e) {
    throw model.source === 'hub' ? await explainHubFailure(e, model.id, options.hubHost) : e;
  }
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

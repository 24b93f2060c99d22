// Where transformers.js reads a model from: the app's own models folder with no network for a shipped
// model, a hub (Hugging Face or a mirror) for the others. The worker's base runtime and the page's
// tokenizer (ui/dataset/page-tokenizer.ts) set it the same way, through this one function.

import type { ModelSpec } from './catalog.ts';

/** The transformers.js `env` fields this sets (its `env` object, passed in: callers import it lazily or not). */
export interface SourceEnv {
  allowLocalModels: boolean;
  allowRemoteModels: boolean;
  localModelPath: string;
  remoteHost: string;
  useBrowserCache: boolean;
  useFSCache: boolean;
  cacheDir: string | null;
}

export interface ModelSource {
  model: Pick<ModelSpec, 'source'>;
  /** URL or path (browser) or folder (Node) holding the shipped models: <localModels>/<id>/config.json. */
  localModels: string;
  /** Host serving the Hub's layout <host>/<id>/resolve/main/<file>; Hugging Face by default. */
  hubHost?: string;
  /** Keep hub downloads in the browser's Cache API (default: when there is one; never for shipped models). */
  cacheHub?: boolean;
  /** Node only: folder for hub downloads (onnxruntime-node opens the model from a file). */
  cacheDir?: string;
}

/** Points transformers.js at the shipped models folder or at a hub, never at both. */
export function configureSource(env: SourceEnv, options: ModelSource): void {
  if (options.model.source === 'shipped') {
    env.allowLocalModels = true;
    env.allowRemoteModels = false;
    env.localModelPath = options.localModels.endsWith('/') ? options.localModels : options.localModels + '/';
    env.useBrowserCache = false; // served by the app itself: the HTTP cache is enough
    env.useFSCache = false;
  } else {
    env.allowLocalModels = false;
    env.allowRemoteModels = true;
    const host = options.hubHost ?? 'https://huggingface.co/';
    env.remoteHost = host.endsWith('/') ? host : host + '/';
    env.useBrowserCache = options.cacheHub ?? typeof caches !== 'undefined';
    // Node: onnxruntime-node opens models from files, so downloads go to a folder — never node_modules.
    env.useFSCache = options.cacheDir !== undefined;
    if (options.cacheDir !== undefined) env.cacheDir = options.cacheDir;
  }
}

// Page options read from the URL, so a link can open the page in a given state:
//   ?model=<catalog id or Hugging Face repo id>  the model to load on open
//   ?backend=auto|webgpu|wasm                    force a backend (wasm: test the fallback path)
//   ?hub=<https URL>                             a Hugging Face mirror serving <id>/resolve/main/<file>
//   ?dtype=fp32|fp16|q8|q4|q4f16                 weights for a repo id that is not in the catalog
//   ?autoload=0                                  do not load a model on open

import type { BackendPreference } from '../lib/base/backend.ts';
import { CATALOG, DEFAULT_MODEL_ID, findModel, hubModel, isHubModelId, type ModelDtype, type ModelSpec } from '../lib/base/catalog.ts';

export interface PageOptions {
  model: ModelSpec;
  backend: BackendPreference;
  hubHost?: string;
  autoload: boolean;
  /** Problems with the URL, explained (ignored parameters). */
  warnings: string[];
}

const BACKENDS: readonly BackendPreference[] = ['auto', 'webgpu', 'wasm'];

/** A value from the URL as a warning quotes it: shortened, since a link can carry anything. */
const quote = (v: string) => (v.length > 100 ? `${v.slice(0, 100)}…` : v);
const DTYPES: readonly ModelDtype[] = ['fp32', 'fp16', 'q8', 'q4', 'q4f16'];

export function parsePageOptions(search: string): PageOptions {
  const params = new URLSearchParams(search);
  const warnings: string[] = [];
  const fallback = findModel(DEFAULT_MODEL_ID) ?? CATALOG[0];

  let model: ModelSpec = fallback;
  const id = params.get('model');
  const dtypeParam = params.get('dtype');
  let dtype: ModelDtype | undefined;
  if (dtypeParam !== null) {
    if ((DTYPES as readonly string[]).includes(dtypeParam)) dtype = dtypeParam as ModelDtype;
    else warnings.push(`dtype=${quote(dtypeParam)} is not one of ${DTYPES.join(', ')}; ignored.`);
  }
  if (id !== null) {
    const known = findModel(id);
    if (known) model = dtype ? { ...known, dtype: { webgpu: dtype, wasm: dtype } } : known;
    else if (isHubModelId(id)) model = hubModel(id, dtype);
    else warnings.push(`model=${quote(id)} is neither a model of this app nor a Hugging Face repo id; loading ${fallback.id}.`);
  }

  let backend: BackendPreference = 'auto';
  const backendParam = params.get('backend');
  if (backendParam !== null) {
    if ((BACKENDS as readonly string[]).includes(backendParam)) backend = backendParam as BackendPreference;
    else warnings.push(`backend=${quote(backendParam)} is not one of ${BACKENDS.join(', ')}; using auto.`);
  }

  let hubHost: string | undefined;
  const hub = params.get('hub');
  if (hub !== null) {
    try {
      const url = new URL(hub);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
      hubHost = url.href.endsWith('/') ? url.href : url.href + '/';
    } catch {
      warnings.push(`hub=${quote(hub)} is not an http(s) URL; using huggingface.co.`);
    }
  }

  const autoload = params.get('autoload') !== '0';
  return { model, backend, hubHost, autoload, warnings };
}

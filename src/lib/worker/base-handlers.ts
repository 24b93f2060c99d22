// Handlers for the base model: load (pick the backend, fetch and compile the model) and generate.

import { chooseBackend, probeWebGPU } from '../base/backend.ts';
import { useOwnOrtWasm } from '../base/ort-assets.ts';
import { BaseRuntime } from '../base/runtime.ts';
import type { Handler } from './handler.ts';

/** The loaded base model; replaced by each load. */
let runtime: BaseRuntime | null = null;

export const load: Handler<'load'> = async (request, { emit }) => {
  emit({ type: 'status', stage: 'backend', message: 'Looking for a WebGPU adapter…' });
  const probe = await probeWebGPU();
  const choice = chooseBackend(request.backend, probe);
  useOwnOrtWasm();

  if (runtime) {
    const old = runtime;
    runtime = null;
    await old.dispose();
  }
  const where = choice.backend === 'webgpu' ? 'WebGPU' : 'WebAssembly';
  emit({ type: 'status', stage: 'download', message: `Loading ${request.model.id} for ${where}…` });
  let lastEmit = 0;
  const loaded = await BaseRuntime.load({
    model: request.model,
    backend: choice.backend,
    f16: probe.f16,
    localModels: sameOriginPath(request.localModels),
    hubHost: request.hubHost,
    onProgress: (p) => {
      // Progress comes per network chunk; a few updates a second are plenty for a bar.
      const now = performance.now();
      if (now - lastEmit < 50 && p.loaded < p.total) return;
      lastEmit = now;
      emit({ type: 'progress', ...p });
    },
  });
  runtime = loaded;
  return {
    ...loaded.info,
    fallbackReason: choice.fallbackReason,
    adapter: choice.backend === 'webgpu' ? probe.adapter : undefined,
  };
};

/**
 * transformers.js 4.3 only reads "local" models from a path, never from an http(s) URL (it skips its
 * local lookup for URLs), so the shipped models' URL becomes its path on this origin.
 */
function sameOriginPath(url: string): string {
  const parsed = new URL(url, self.location.href);
  if (parsed.origin !== self.location.origin) throw new Error(`the models folder ${url} is not on this site`);
  return parsed.pathname;
}

export const generate: Handler<'generate'> = async (request, { emit, signal }) => {
  if (!runtime) throw new Error('No model is loaded yet: load one first.');
  return runtime.generate(
    request.prompt,
    { ...request.sampling, chat: request.chat },
    (token) => emit({ type: 'token', token }),
    signal,
  );
};

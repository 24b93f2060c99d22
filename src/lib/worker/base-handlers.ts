// Handlers for the base model: load it (pick the backend, fetch and compile) and generate with it —
// on onnxruntime, or, for a model with no ONNX graph (one made in this browser), on the engine with no
// adapter attached.

import { normalizeSampling } from '../generate/sampling.ts';
import type { StreamedToken } from '../generate/stream.ts';
import { generateOn } from './engine-handlers.ts';
import { baseRuntime, liveEngine, loadBase } from './session.ts';
import type { Handler } from './handler.ts';

export const load: Handler<'load'> = (request, context) => loadBase(request, context);

export const generate: Handler<'generate'> = async (request, context) => {
  const { emit, signal } = context;
  const onToken = (token: StreamedToken) => emit({ type: 'token', token });
  const runtime = baseRuntime();
  if (runtime.hasOnnx) return runtime.generate(request.prompt, { ...request.sampling, chat: request.chat }, onToken, signal);
  const s = await liveEngine(context);
  return generateOn(s, { runtime: 'engine', adapterId: null }, request, normalizeSampling(request.sampling), signal, onToken, 'The base generation');
};

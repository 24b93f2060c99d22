// Handlers for the base model: load it (pick the backend, fetch and compile) and generate with it.

import { baseRuntime, loadBase } from './session.ts';
import type { Handler } from './handler.ts';

export const load: Handler<'load'> = (request, context) => loadBase(request, context);

export const generate: Handler<'generate'> = async (request, { emit, signal }) =>
  baseRuntime().generate(request.prompt, { ...request.sampling, chat: request.chat }, (token) => emit({ type: 'token', token }), signal);

/// <reference lib="webworker" />
// Per-example evaluation in the worker: the evaluation library (src/lib/eval/evaluate.ts) with a saved
// adapter attached, or none, exactly as `lora-playground eval` runs it; the text decoder is the base
// runtime's (special tokens removed, as the command line's).

import { evaluateItems } from '../eval/evaluate.ts';
import type { Handler } from './handler.ts';
import { attachSaved, baseRuntime, liveEngine, onGpu, strike } from './session.ts';

export const evaluateExamples: Handler<'evaluateExamples'> = async (request, { emit, signal }) => {
  const s = await liveEngine({ emit, signal });
  if (request.items.length === 0) throw new Error('there is no example to evaluate');
  await onGpu("Importing the adapter's weights to the GPU", s, () => attachSaved(s, request.adapterId));
  const runtime = baseRuntime();
  return onGpu('The evaluation', s, async () => {
    strike(s, 'evaluate');
    return evaluateItems(s.engine, request.items, {
      decode: (ids) => runtime.decode(ids),
      maxNewTokens: request.maxNewTokens,
      signal,
      onProgress: (done, total) => emit({ type: 'evalRow', done, total }),
    });
  });
};

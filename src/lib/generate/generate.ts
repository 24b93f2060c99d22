// Autoregressive generation with whatever method is attached (or none), on a KV cache:
//   prefill   one forward pass over the prompt writes every layer's keys/values into the cache
//   decode    one token per forward pass, attending to the cache (and the prefix, if any)
// Each step reads back one row of V logits; the token is drawn on the CPU (sampling.ts) from a
// seeded generator, so a run repeats exactly, and stops at a stop token or the length limit.
import { createTensor, readF32, Recorder, type Tensor } from '../gpu/index.ts';
import type { Model } from '../model/model.ts';
import { KvCacheBuffers } from './kvcache.ts';
import { createRng } from '../random.ts';
import { sampleToken, type SamplingOptions } from './sampling.ts';
import type { StopReason } from './stream.ts';

export interface GenerateOptions {
  /** new tokens at most */
  maxNewTokens: number;
  /** greedy when absent */
  sampling?: Pick<SamplingOptions, 'temperature' | 'topK' | 'topP' | 'seed'>;
  /** stop after producing one of these (defaults to the model's eos tokens) */
  stopTokens?: number[];
  /** checked before every token */
  signal?: AbortSignal;
}


/** The prompt is padded to a multiple of this, so a few activation sets serve every prompt length. */
const PREFILL_BUCKET = 16;

/**
 * Yields each generated token id as soon as it is drawn; returns why it stopped. The stop token,
 * when reached, is yielded too (as transformers includes it in its output).
 */
export async function* generate(model: Model, prompt: ArrayLike<number>, opts: GenerateOptions): AsyncGenerator<number, StopReason> {
  const gpu = model.gpu;
  const cfg = model.cfg;
  const n0 = prompt.length;
  if (n0 === 0) throw new Error('generate: the prompt is empty');
  const P = model.transformer.binding.prefixLength;
  const room = cfg.maxPositions - P;
  if (n0 >= room) throw new Error(`generate: the prompt has ${n0} tokens; this model takes at most ${room - 1}`);
  const maxNew = Math.min(opts.maxNewTokens, room - n0);
  const sampling = opts.sampling ?? { temperature: 0, topK: 0, topP: 1, seed: 0 };
  const stop = new Set(opts.stopTokens ?? cfg.eosTokenIds);
  const rng = createRng(sampling.seed);

  // The padded prompt may reach past the last position generation will use; the cache holds both.
  const Tp = Math.min(Math.ceil(n0 / PREFILL_BUCKET) * PREFILL_BUCKET, room);
  const cache = new KvCacheBuffers(gpu, cfg, 1, Math.max(Tp, n0 + maxNew));
  const row = createTensor(gpu, [1, cfg.vocabSize], 'f32', 'generate: logits');
  try {
    // Prefill. Padding positions (id 0) come after the prompt: causal attention keeps them from
    // reaching the prompt, and decoding overwrites their cache entries before reading them.
    const ids = new Int32Array(Tp);
    for (let i = 0; i < n0; i++) ids[i] = prompt[i];
    let logits = await step(model, ids, Tp, cache, row, n0 - 1);
    cache.past = n0;
    for (let i = 0; i < maxNew; i++) {
      if (opts.signal?.aborted) return 'stopped';
      const next = sampleToken(logits, sampling, rng);
      yield next;
      if (stop.has(next)) return 'eos';
      if (i === maxNew - 1) break;
      logits = await step(model, Int32Array.of(next), 1, cache, row, 0);
      cache.past++;
    }
    return 'length';
  } finally {
    cache.destroy();
    row.buffer.destroy();
  }
}

/** One forward pass of T tokens at cache.past.., returning the logits of row `last`. */
async function step(model: Model, ids: Int32Array, T: number, cache: KvCacheBuffers, row: Tensor, last: number): Promise<Float32Array> {
  const acts = model.activations(1, T, false);
  const [inputs] = model.inputTensors(1, T, 1);
  const inp = model.writeInputs(inputs, ids);
  const rec = new Recorder(model.gpu, 'generate');
  model.transformer.forward(rec, acts, { ...inp, cache });
  model.transformer.logits(rec, acts, row, { start: last, count: 1 });
  rec.submit();
  return readF32(model.gpu, row);
}

// Decode speed of a LoRA-adapted model with the adapter merged into copies of the weights it targets
// (what Engine.generate does outside a training run: PEFT's merge without the unload) against the
// same adapter left unmerged (two extra rank-r products per targeted projection per token). Greedy
// decoding from the same prompt, stop tokens off so every run makes the same number of tokens; decode
// time runs from the first token drawn to the last (the prefill is left out), median over `iters`
// runs of each, taken in turns.
import { generate } from '../src/lib/generate/generate.ts';
import type { Model } from '../src/lib/model/model.ts';

/** Decode tokens/s of one greedy generation of `tokens` tokens (after the first). */
async function decodeRate(model: Model, prompt: Int32Array, tokens: number): Promise<number> {
  let first = 0;
  let n = 0;
  for await (const _ of generate(model, prompt, { maxNewTokens: tokens, stopTokens: [] })) {
    if (n++ === 0) first = performance.now();
  }
  return ((n - 1) * 1000) / (performance.now() - first);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Merged vs unmerged decode tokens/s of the attached LoRA (one warm-up run of each first). Leaves the
 * model unmerged, as training needs it.
 */
export async function benchMergedDecode(model: Model, prompt: Int32Array, tokens: number, iters: number) {
  const merged: number[] = [];
  const unmerged: number[] = [];
  for (let i = 0; i <= iters; i++) {
    model.mergeLora();
    const m = await decodeRate(model, prompt, tokens);
    model.unmergeLora();
    const u = await decodeRate(model, prompt, tokens);
    if (i > 0) (merged.push(m), unmerged.push(u));
  }
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    tokens,
    prompt_tokens: prompt.length,
    merged_tokens_per_s: round(median(merged)),
    unmerged_tokens_per_s: round(median(unmerged)),
    /** > 1: merging decodes faster */
    merged_vs_unmerged: Math.round((median(merged) / median(unmerged)) * 1000) / 1000,
  };
}

// The prompts a RAFT run samples for when they come from the dataset on the page: each example's
// prompt as the model sees it in raw text (prompt-completion, Alpaca, preference pairs with a text
// prompt), with the dataset's answer as the reference an exact-match rule compares with. Examples
// without a plain-text prompt (text, chat messages) give none; repeats are dropped.
import type { Example } from '../../lib/data/formats.ts';
import type { RaftPrompt } from '../../lib/rewards/raft.ts';

/** Prompts at most: RAFT samples K answers for each, every round. */
export const MAX_DATASET_PROMPTS = 64;

export function datasetPrompts(examples: readonly Example[], max = MAX_DATASET_PROMPTS): RaftPrompt[] {
  const out: RaftPrompt[] = [];
  const seen = new Set<string>();
  for (const ex of examples) {
    let p: RaftPrompt | null = null;
    if (ex.format === 'prompt-completion') p = { prompt: ex.prompt, reference: ex.completion };
    else if (ex.format === 'alpaca') p = { prompt: ex.input ? `${ex.instruction}\n${ex.input}` : ex.instruction, reference: ex.output };
    else if (ex.format === 'preference' && typeof ex.prompt === 'string') p = { prompt: ex.prompt, reference: typeof ex.chosen === 'string' ? ex.chosen : null };
    if (!p || p.prompt.trim() === '' || seen.has(p.prompt)) continue;
    seen.add(p.prompt);
    out.push(p);
    if (out.length >= max) break;
  }
  return out;
}

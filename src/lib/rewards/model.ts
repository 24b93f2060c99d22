// The trained reward model as a reward: the engine with a reward adapter attached (a method whose
// modules_to_save holds "score") rates prompt + answer pairs, one forward per batch of answers.
import { rowBatches } from '../data/batches.ts';
import type { TextTokenizer } from '../data/tokenize.ts';
import type { ChatTemplateFn } from '../data/templates.ts';
import type { Engine } from '../engine.ts';
import { packAnswers, type PromptAnswer } from './answers.ts';

/** Answers per forward pass. */
const ROWS = 8;

/** The reward of each item (in order) under the reward model attached to `engine`. */
export async function scoreAnswers(
  engine: Engine,
  tok: TextTokenizer,
  items: readonly PromptAnswer[],
  T: number,
  chatTemplate: ChatTemplateFn | null = null,
): Promise<number[]> {
  if (items.length === 0) return [];
  const packed = await packAnswers(items, tok, T, chatTemplate);
  const rewards = await engine.whileAlive(engine.rewards(rowBatches(packed, Math.min(ROWS, items.length), tok.padId)));
  return Array.from(rewards.subarray(0, items.length));
}

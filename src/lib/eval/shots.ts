// k-shot prompting: the base model shown k solved examples from the training data before the one it
// must answer, the baseline a tuned adapter has to beat ("would a prompt have done it?"). Shots are
// picked per evaluated example, at random (seeded) or by similarity of their prompt to its prompt,
// and written in front of its prompt in the example's own format, so nothing else changes: the same
// answer is scored and the same tokens count.

import type { ChatMessage, Example } from '../data/formats.ts';
import { alpacaPrompt } from '../data/templates.ts';
import { permutation } from '../random.ts';
import { rougeL } from './metrics.ts';

export type ShotPick = 'random' | 'similar';
export const SHOT_PICKS: readonly ShotPick[] = ['random', 'similar'];

export interface ShotOptions {
  /** examples shown before each one evaluated */
  k: number;
  pick: ShotPick;
  /** draws the random shots, and breaks ties between equally similar ones */
  seed: number;
}

/** Separates shots from each other and from the prompt in text formats (a blank line). */
export const SHOT_SEPARATOR = '\n\n';

/** The text a shot is matched on: its prompt (the instruction and input, or the user turns). */
export function promptText(ex: Example): string | null {
  switch (ex.format) {
    case 'prompt-completion':
      return ex.prompt;
    case 'alpaca':
      return `${ex.instruction}\n${ex.input}`;
    case 'messages':
      return ex.messages
        .filter((m) => m.role === 'user')
        .map((m) => m.content)
        .join('\n');
    default:
      return null;
  }
}

/** Whether examples of this format can be shown as shots (they have a prompt and an answer). */
export function takesShots(ex: Example): boolean {
  return promptText(ex) !== null;
}

/** Same content wherever it came from: a duplicate of the question is never shown as its own answer. */
const same = (a: Example, b: Example) => JSON.stringify({ ...a, where: null }) === JSON.stringify({ ...b, where: null });

/**
 * The k shots for the `index`-th evaluated example, from `pool` (training examples of the same
 * format; an example with the query's content is never its shot). 'random': the first k of a permutation
 * seeded by seed + index, so each example gets its own draw and a run repeats exactly. 'similar': the
 * k whose prompt has the highest ROUGE-L with the query's prompt (ties in the seeded order), shown
 * least similar first so the most similar sits next to the question.
 */
export function pickShots(pool: readonly Example[], query: Example, index: number, opts: ShotOptions): Example[] {
  const q = promptText(query);
  if (opts.k <= 0 || q === null) return [];
  const order = permutation(pool.length, opts.seed + index);
  const candidates = Array.from(order, (i) => pool[i]).filter((ex) => ex.format === query.format && !same(ex, query));
  if (opts.pick === 'random') return candidates.slice(0, opts.k);
  const scored = candidates.map((ex, rank) => ({ ex, rank, score: rougeL(promptText(ex) ?? '', q) }));
  scored.sort((a, b) => b.score - a.score || a.rank - b.rank);
  return scored
    .slice(0, opts.k)
    .reverse()
    .map((s) => s.ex);
}

/** A solved example as text: its prompt and its answer. */
function solved(ex: Example): string {
  if (ex.format === 'prompt-completion') return ex.prompt + ex.completion;
  if (ex.format === 'alpaca') return alpacaPrompt(ex.instruction, ex.input) + ex.output;
  return '';
}

/** A conversation's turns up to its last assistant turn, without system messages (the query's own system prompt leads). */
function turns(messages: ChatMessage[]): ChatMessage[] {
  const last = messages.map((m) => m.role).lastIndexOf('assistant');
  return messages.slice(0, last + 1).filter((m) => m.role !== 'system');
}

/**
 * The query with its shots in front. Text formats: the solved shots, then the query's prompt, blank
 * lines between (an alpaca query becomes a prompt-completion example whose prompt is the rendered
 * Alpaca prompt, so its answer and EOS are counted exactly as before). Conversations: the query's
 * system messages, the shots' turns, then the query's turns; `countFrom` is the index of the query's
 * first own message, so only its assistant turns count.
 */
export function withShots(query: Example, shots: readonly Example[]): { example: Example; countFrom: number } {
  if (shots.length === 0) return { example: query, countFrom: 0 };
  switch (query.format) {
    case 'prompt-completion':
    case 'alpaca': {
      const prefix = shots.map(solved).join(SHOT_SEPARATOR) + SHOT_SEPARATOR;
      const prompt = query.format === 'alpaca' ? alpacaPrompt(query.instruction, query.input) : query.prompt;
      const completion = query.format === 'alpaca' ? query.output : query.completion;
      return { example: { where: query.where, format: 'prompt-completion', prompt: prefix + prompt, completion }, countFrom: 0 };
    }
    case 'messages': {
      const system = query.messages.filter((m, i) => m.role === 'system' && i === 0);
      const shown = shots.flatMap((s) => (s.format === 'messages' ? turns(s.messages) : []));
      const own = query.messages.slice(system.length);
      return { example: { where: query.where, format: 'messages', messages: [...system, ...shown, ...own] }, countFrom: system.length + shown.length };
    }
    default:
      return { example: query, countFrom: 0 };
  }
}

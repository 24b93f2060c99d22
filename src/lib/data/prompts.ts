// Prompts to compare base and tuned output on, taken from (validation) examples: what the model must
// be given to continue as it was trained, and what the example answered.

import { alpacaPrompt, type ChatTemplateFn } from './templates';
import type { Example } from './formats';

/** At most this many quick prompts go to the compare screen. */
export const MAX_QUICK_PROMPTS = 8;

/**
 *   prompt-completion  the prompt                          → the completion
 *   alpaca             the Alpaca prompt                   → the output
 *   messages           the conversation up to its last assistant turn, with the chat template's
 *                      generation prompt                   → that assistant turn
 *   text               its first few words (a third, at most 8) → the rest
 * Duplicates are dropped; preference data gives none.
 */
export function quickPrompts(
  examples: readonly Example[],
  ctx: { chatTemplate?: ChatTemplateFn | null } = {},
  max = MAX_QUICK_PROMPTS,
): { prompts: string[]; references: string[] } {
  const prompts: string[] = [];
  const references: string[] = [];
  for (const ex of examples) {
    if (prompts.length >= max) break;
    let pair: [string, string] | null = null;
    switch (ex.format) {
      case 'prompt-completion':
        if (ex.prompt.trim() !== '') pair = [ex.prompt, ex.completion];
        break;
      case 'alpaca':
        pair = [alpacaPrompt(ex.instruction, ex.input), ex.output];
        break;
      case 'messages': {
        const last = ex.messages.map((m) => m.role).lastIndexOf('assistant');
        if (last > 0 && ctx.chatTemplate) pair = [ctx.chatTemplate(ex.messages.slice(0, last), true), ex.messages[last].content];
        break;
      }
      case 'text': {
        const words = ex.text.trim().split(/\s+/);
        const k = Math.min(8, Math.max(1, Math.floor(words.length / 3)));
        if (words.length > 1) pair = [words.slice(0, k).join(' '), words.slice(k).join(' ')];
        break;
      }
      case 'preference':
        break;
    }
    if (pair && !prompts.includes(pair[0])) {
      prompts.push(pair[0]);
      references.push(pair[1]);
    }
  }
  return { prompts, references };
}

// How an evaluated prompt is written, besides its shots: through the model's chat template or as plain
// text, and with a system prompt in front. The same settings serve every column of an evaluation (base,
// adapters, k-shot base), so a column differs from another only in its weights or its shots.
//
//   chat on   {prompt, completion} and Alpaca examples become a conversation, TRL's conversational
//             form: one user turn (the prompt; Alpaca's instruction, then its input) and the answer as
//             the assistant turn; the chat template renders it and only the assistant turn counts.
//   system    a conversation gets it as its first message (replacing one it had); a text prompt gets
//             it in front, a blank line after it, before any shots.

import type { ChatMessage, Example } from '../data/formats.ts';
import { alpacaPrompt } from '../data/templates.ts';
import { SHOT_SEPARATOR } from './shots.ts';

export interface PromptStyle {
  /** render prompts with the model's chat template (the answer as the assistant turn) */
  chat: boolean;
  /** written before the prompt (a system message with the chat template); '' for none */
  system: string;
}

/** Prompts as the data file writes them: no template, no system prompt. */
export const PLAIN_PROMPTS: PromptStyle = { chat: false, system: '' };

/** An example as a conversation (chat on); text and conversations stay as they are. */
export function asConversation(ex: Example): Example {
  const talk = (user: string, answer: string): Example => ({
    where: ex.where,
    format: 'messages',
    messages: [
      { role: 'user', content: user },
      { role: 'assistant', content: answer },
    ],
  });
  if (ex.format === 'prompt-completion') return talk(ex.prompt, ex.completion);
  if (ex.format === 'alpaca') return talk(ex.input.trim() === '' ? ex.instruction : `${ex.instruction}\n\n${ex.input}`, ex.output);
  return ex;
}

/**
 * `ex` (shots already in front, withShots) with the system prompt; `countFrom` (the index of the
 * query's first own message) moves with the messages. Plain text has no prompt and is left as it is.
 */
export function withSystem(ex: Example, countFrom: number, system: string): { example: Example; countFrom: number } {
  if (system === '') return { example: ex, countFrom };
  switch (ex.format) {
    case 'messages': {
      const had = ex.messages[0]?.role === 'system' ? 1 : 0;
      const messages: ChatMessage[] = [{ role: 'system', content: system }, ...ex.messages.slice(had)];
      return { example: { ...ex, messages }, countFrom: countFrom - had + 1 };
    }
    case 'prompt-completion':
      return { example: { ...ex, prompt: system + SHOT_SEPARATOR + ex.prompt }, countFrom };
    case 'alpaca':
      return {
        example: { where: ex.where, format: 'prompt-completion', prompt: system + SHOT_SEPARATOR + alpacaPrompt(ex.instruction, ex.input), completion: ex.output },
        countFrom,
      };
    default:
      return { example: ex, countFrom };
  }
}

// Examples → text segments, each marked trainable or not. The loss counts a token only if it came from
// a trainable segment (tokenize.ts keeps that flag per token).
//
//   text               [text ✓] + EOS ✓
//   prompt-completion  [prompt ✗][completion ✓] + EOS ✓          (TRL's completion-only loss)
//   alpaca             [Alpaca prompt ✗][output ✓] + EOS ✓
//   messages           the chat template's rendering, split so each assistant turn (its content and
//                      the template's end-of-turn text) is ✓ and everything else ✗. No EOS is added:
//                      the template ends turns itself.
//   preference         two renderings, chosen and rejected (renderPreference): [prompt ✗][completion ✓]
//                      + EOS ✓ for text; for conversations the chat template's rendering of prompt and
//                      completion, with only the completion's assistant turns ✓. A pair is one example
//                      of a preference objective; supervised fine-tuning refuses it (PREFERENCE_NOTE).

import { type ChatMessage, type Example, PREFERENCE_NOTE, preferencePair } from './formats';

export interface Segment {
  text: string;
  trainable: boolean;
}

export interface RenderedExample {
  segments: Segment[];
  /** Append the tokenizer's EOS token (trainable when the last segment is) after the segments. */
  appendEos: boolean;
  /** Prepend the tokenizer's BOS token (if it has one); chat templates write their own. */
  prependBos: boolean;
}

/** Renders a conversation with a model's chat template. */
export type ChatTemplateFn = (messages: ChatMessage[], addGenerationPrompt: boolean) => string;

/** The part of a transformers.js tokenizer that renders chat templates. */
export interface ChatTemplateTokenizer {
  apply_chat_template(
    conversation: { role: string; content: string }[],
    options: { tokenize: false; add_generation_prompt: boolean },
  ): string;
  chat_template?: string | null;
}

/**
 * A ChatTemplateFn backed by a transformers.js tokenizer's `apply_chat_template` (which renders the
 * tokenizer_config.json's chat_template with @huggingface/jinja, with bos_token/eos_token set).
 */
export function chatTemplateFromTokenizer(tok: ChatTemplateTokenizer): ChatTemplateFn {
  return (messages, addGenerationPrompt) =>
    tok.apply_chat_template(
      messages.map((m) => ({ role: m.role, content: m.content })),
      { tokenize: false, add_generation_prompt: addGenerationPrompt },
    );
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/**
 * The Alpaca prompt (Stanford Alpaca's, as most Alpaca-format fine-tunes use it). The output follows
 * the "### Response:\n" line; at generation time the same prompt is given and the model continues.
 */
export const ALPACA_PROMPT_WITH_INPUT =
  'Below is an instruction that describes a task, paired with an input that provides further context. ' +
  'Write a response that appropriately completes the request.\n\n' +
  '### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n';
export const ALPACA_PROMPT_NO_INPUT =
  'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n' +
  '### Instruction:\n{instruction}\n\n### Response:\n';

export function alpacaPrompt(instruction: string, input: string): string {
  // Replace with functions so "$&" and friends in user text are taken literally.
  const t = input.trim() === '' ? ALPACA_PROMPT_NO_INPUT : ALPACA_PROMPT_WITH_INPUT;
  return t.replace('{instruction}', () => instruction).replace('{input}', () => input);
}

/**
 * Splits a rendered conversation into segments, assistant turns trainable.
 *
 * Chat templates give no positions, so the conversation is rendered a prefix at a time: before
 * assistant turn i we render messages[0..i) with the generation prompt (which ends with the text that
 * opens an assistant turn, e.g. "<|im_start|>assistant\n"); the text that rendering messages[0..i]
 * adds after that is the assistant's turn (content and end-of-turn, e.g. "...<|im_end|>\n"). Each
 * rendering must extend the previous one, which holds for ChatML, Llama, Zephyr and most templates;
 * a template that rewrites earlier turns (e.g. drops past reasoning) is refused with a clear error.
 */
export function renderMessages(messages: ChatMessage[], chat: ChatTemplateFn, opts: { countFrom?: number } = {}): Segment[] {
  // Assistant turns before message `countFrom` are context (a preference pair's prompt), not trained.
  const countFrom = opts.countFrom ?? 0;
  const segments: Segment[] = [];
  let prev = '';
  const extend = (next: string, trainable: boolean, what: string) => {
    if (!next.startsWith(prev)) {
      throw new TemplateError(
        `the chat template renders earlier turns differently once ${what} is added, so the assistant turns cannot be located for the loss mask`,
      );
    }
    const text = next.slice(prev.length);
    if (text !== '') {
      const last = segments[segments.length - 1];
      if (last && last.trainable === trainable) last.text += text;
      else segments.push({ text, trainable });
    }
    prev = next;
  };
  for (let i = 0; i < messages.length; i++) {
    const what = `message ${i + 1} (${messages[i].role})`;
    if (messages[i].role === 'assistant') {
      extend(chat(messages.slice(0, i), true), false, what);
      extend(chat(messages.slice(0, i + 1), false), i >= countFrom, what);
    } else {
      extend(chat(messages.slice(0, i + 1), false), false, what);
    }
  }
  return segments;
}

export interface RenderContext {
  /** Required for {messages} data; absent when the model has no chat_template. */
  chatTemplate?: ChatTemplateFn | null;
}

/** An example's segments for supervised fine-tuning. Throws for preference data (renderPreference renders it). */
export function renderExample(ex: Example, ctx: RenderContext = {}): RenderedExample {
  switch (ex.format) {
    case 'text':
      return { segments: [{ text: ex.text, trainable: true }], appendEos: true, prependBos: true };
    case 'prompt-completion':
      return {
        segments: [
          ...(ex.prompt === '' ? [] : [{ text: ex.prompt, trainable: false }]),
          { text: ex.completion, trainable: true },
        ],
        appendEos: true,
        prependBos: true,
      };
    case 'alpaca':
      return {
        segments: [
          { text: alpacaPrompt(ex.instruction, ex.input), trainable: false },
          { text: ex.output, trainable: true },
        ],
        appendEos: true,
        prependBos: true,
      };
    case 'messages':
      if (!ctx.chatTemplate) {
        throw new TemplateError("this model has no chat_template in its tokenizer_config.json, so {messages} data cannot be rendered; use {prompt, completion} data");
      }
      return { segments: renderMessages(ex.messages, ctx.chatTemplate), appendEos: false, prependBos: false };
    case 'preference':
      throw new TemplateError(PREFERENCE_NOTE);
  }
}

const NO_CHAT_TEMPLATE = "this model has no chat_template in its tokenizer_config.json, so conversational pairs cannot be rendered; give prompt, chosen and rejected as text";

/**
 * A preference pair's two sequences, each the prompt (not counted) and one completion (counted), as
 * TRL's DPO tokenizes them: text pairs get BOS (when the tokenizer has one) and EOS after the
 * completion; conversational pairs are rendered whole by the chat template (the prompt with its
 * generation prompt, then the answer), counting only the answer's assistant turns.
 */
export function renderPreference(ex: Example, ctx: RenderContext = {}): { chosen: RenderedExample; rejected: RenderedExample } {
  if (ex.format !== 'preference') throw new TemplateError(`renderPreference: a ${ex.format} example is not a preference pair`);
  const split = preferencePair(ex);
  if ('problem' in split) throw new TemplateError(`${split.problem.field} ${split.problem.message}`);
  const { pair } = split;
  if (!pair.conversational) {
    const one = (completion: string): RenderedExample => ({
      segments: [...(pair.prompt === '' ? [] : [{ text: pair.prompt, trainable: false }]), { text: completion, trainable: true }],
      appendEos: true,
      prependBos: true,
    });
    return { chosen: one(pair.chosen), rejected: one(pair.rejected) };
  }
  const chat = ctx.chatTemplate;
  if (!chat) throw new TemplateError(NO_CHAT_TEMPLATE);
  const one = (completion: ChatMessage[]): RenderedExample => ({
    segments: renderMessages([...pair.prompt, ...completion], chat, { countFrom: pair.prompt.length }),
    appendEos: false,
    prependBos: false,
  });
  return { chosen: one(pair.chosen), rejected: one(pair.rejected) };
}

// A whole evaluation's examples made ready for one column: the prompt style applied (prompting.ts),
// shots picked per example when the column has them (shots.ts), each rendered and tokenized
// (items.ts). The command line and the page's Evaluate panel both prepare their columns here.

import type { Example } from '../data/formats.ts';
import type { ChatTemplateFn } from '../data/templates.ts';
import type { TextTokenizer } from '../data/tokenize.ts';
import { type EvalItem, prepareItem } from './items.ts';
import { asConversation, PLAIN_PROMPTS, type PromptStyle } from './prompting.ts';
import { pickShots, type ShotOptions } from './shots.ts';

export interface PrepareColumnOptions {
  chatTemplate: ChatTemplateFn | null;
  maxPositions: number;
  /** chat template and system prompt; plain prompts when absent */
  prompt?: PromptStyle;
  /** shots in front of each prompt, from `pool`; none when null */
  shots: ShotOptions | null;
}

export interface PreparedColumn {
  /** one per example that could be prepared, in the examples' order */
  items: EvalItem[];
  /** the examples those items came from */
  kept: Example[];
  /** why each other example could not be prepared, naming it */
  problems: string[];
}

/** The reason a prompt style cannot be used with this model, or null. */
export function promptStyleProblem(style: PromptStyle, chatTemplate: ChatTemplateFn | null): string | null {
  if (style.chat && !chatTemplate) return 'the chat template is on, but this model has no chat_template in its tokenizer_config.json';
  return null;
}

/**
 * Prepares `examples` for one column. Shots come from `pool` (converted as the examples are); an
 * example that cannot be rendered or does not fit the model's positions is named in `problems`.
 * Throws when the prompt style does not fit the model.
 */
export function prepareColumn(examples: readonly Example[], pool: readonly Example[], tok: TextTokenizer, opts: PrepareColumnOptions): PreparedColumn {
  const style = opts.prompt ?? PLAIN_PROMPTS;
  const problem = promptStyleProblem(style, opts.chatTemplate);
  if (problem) throw new Error(problem);
  const convert = (ex: Example) => (style.chat ? asConversation(ex) : ex);
  const shotPool = opts.shots ? pool.map(convert) : [];
  const out: PreparedColumn = { items: [], kept: [], problems: [] };
  examples.forEach((ex, i) => {
    try {
      const query = convert(ex);
      const chosen = opts.shots ? pickShots(shotPool, query, i, opts.shots) : [];
      out.items.push(prepareItem(query, chosen, tok, { chatTemplate: opts.chatTemplate, maxPositions: opts.maxPositions, system: style.system }));
      out.kept.push(ex);
    } catch (e) {
      out.problems.push((e as Error).message);
    }
  });
  return out;
}

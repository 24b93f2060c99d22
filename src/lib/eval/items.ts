// An example made ready to evaluate: rendered and tokenized exactly as training renders it (the same
// segments, BOS/EOS and loss mask, data/templates.ts + data/tokenize.ts), with k shots in front when
// asked, and split into what generation starts from and what it should answer.

import type { Example } from '../data/formats.ts';
import { IGNORE_INDEX } from '../data/pack.ts';
import { describeWhere, type Where } from '../data/problems.ts';
import { type ChatTemplateFn, renderExample, renderMessages } from '../data/templates.ts';
import { type TextTokenizer, tokenizeSegments } from '../data/tokenize.ts';
import { withSystem } from './prompting.ts';
import { withShots } from './shots.ts';

export interface EvalItem {
  where: Where;
  /** the whole sequence: shots, prompt, answer (and EOS where training appends it) */
  ids: Int32Array;
  /** ids[t+1] where training counts it, −100 elsewhere; same length as ids */
  targets: Int32Array;
  /** what greedy generation continues: every token before the last counted run; null for plain text */
  promptIds: number[] | null;
  /** the prompt exactly as the model sees it (special tokens written out); null for plain text */
  prompt: string | null;
  /** the answer generation is scored against; null for plain text */
  reference: string | null;
  /** shots actually shown (fewer than asked when k of them would not fit the model's positions) */
  shots: number;
}

/** The answer generation is compared with. */
function referenceOf(ex: Example): string | null {
  switch (ex.format) {
    case 'prompt-completion':
      return ex.completion;
    case 'alpaca':
      return ex.output;
    case 'messages': {
      const last = ex.messages.map((m) => m.role).lastIndexOf('assistant');
      return last >= 0 ? ex.messages[last].content : null;
    }
    default:
      return null;
  }
}

function build(ex: Example, shotsShown: readonly Example[], tok: TextTokenizer, chatTemplate: ChatTemplateFn | null, system: string): EvalItem {
  const shown = withShots(ex, shotsShown);
  const { example, countFrom } = withSystem(shown.example, shown.countFrom, system);
  const rendered = renderExample(example, { chatTemplate });
  // A conversation with shots counts only the query's own assistant turns.
  const segments = example.format === 'messages' && countFrom > 0 ? renderMessages(example.messages, chatTemplate!, { countFrom }) : rendered.segments;
  const tokenized = tokenizeSegments(segments, tok, rendered, ex.where);
  const { ids, trainable } = tokenized;
  const targets = new Int32Array(ids.length).fill(IGNORE_INDEX);
  for (let t = 0; t + 1 < ids.length; t++) if (trainable[t + 1]) targets[t] = ids[t + 1];
  const reference = referenceOf(ex);
  let promptIds: number[] | null = null;
  if (reference !== null) {
    // The last run of counted tokens is the answer; everything before it is the prompt.
    let end = ids.length;
    while (end > 0 && !trainable[end - 1]) end--;
    let start = end;
    while (start > 0 && trainable[start - 1]) start--;
    if (start > 0) promptIds = Array.from(ids.subarray(0, start));
  }
  return {
    where: ex.where,
    ids,
    targets,
    promptIds,
    prompt: promptIds ? tok.decode(promptIds) : null,
    reference: promptIds ? reference : null,
    shots: shotsShown.length,
  };
}

/**
 * Renders and tokenizes `ex` with `shots` in front (and `system`, prompting.ts's withSystem, before them), dropping shots (farthest from the question first)
 * until the sequence fits `maxPositions`. Throws, naming the example, when it does not fit even
 * without shots, or cannot be rendered (e.g. a conversation on a model without a chat template).
 */
export function prepareItem(
  ex: Example,
  shots: readonly Example[],
  tok: TextTokenizer,
  opts: { chatTemplate: ChatTemplateFn | null; maxPositions: number; system?: string },
): EvalItem {
  let shown = shots.slice();
  for (;;) {
    let item: EvalItem;
    try {
      item = build(ex, shown, tok, opts.chatTemplate, opts.system ?? '');
    } catch (e) {
      throw new Error(`${describeWhere(ex.where)}: ${(e as Error).message}`);
    }
    if (item.ids.length <= opts.maxPositions) return item;
    if (shown.length === 0) {
      throw new Error(`${describeWhere(ex.where)}: ${item.ids.length} tokens, longer than the ${opts.maxPositions} positions the model takes`);
    }
    shown = shown.slice(1);
  }
}

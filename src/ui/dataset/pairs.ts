// Preference pairs as the dataset preview shows them: the prepared data tokenizes each pair as two
// examples in a row (chosen, then rejected: data/tokenize.ts), and the preview puts them side by side
// with the pair's prompt and answers as text, taken from the example the pair was read from.

import {
  type ChatMessage,
  describeWhere,
  type Example,
  type PreparedData,
  preferencePair,
  type TokenizedExample,
  type Where,
} from '../../lib/data';

export interface PairText {
  prompt: string;
  chosen: string;
  rejected: string;
}

export interface PairView {
  where: Where;
  split: 'train' | 'validation';
  chosen: TokenizedExample;
  rejected: TokenizedExample;
  /** The pair's prompt and answers as text (null when its source example is not found). */
  text: PairText | null;
}

/** Messages as lines "role: content" (a conversational pair's prompt or answer). */
function messagesText(messages: ChatMessage[]): string {
  return messages.map((m) => `${m.role}: ${m.content}`).join('\n');
}

/** A preference example's prompt (explicit or implicit) and its two answers, as text; null if it has no valid pair. */
export function pairText(ex: Example): PairText | null {
  if (ex.format !== 'preference') return null;
  const r = preferencePair(ex);
  if (!('pair' in r)) return null;
  const p = r.pair;
  if (!p.conversational) return { prompt: p.prompt, chosen: p.chosen, rejected: p.rejected };
  return { prompt: messagesText(p.prompt), chosen: messagesText(p.chosen), rejected: messagesText(p.rejected) };
}

/** Train pairs, then validation pairs, in the prepared order; [] for data that is not pairs. */
export function viewPairs(prepared: PreparedData | null, sources: readonly Example[]): PairView[] {
  if (!prepared || prepared.format !== 'preference') return [];
  const byWhere = new Map(sources.map((e) => [describeWhere(e.where), e]));
  const out: PairView[] = [];
  const add = (examples: TokenizedExample[], split: PairView['split']) => {
    for (let i = 0; i + 1 < examples.length; i += 2) {
      const [chosen, rejected] = [examples[i], examples[i + 1]];
      if (chosen.pair !== 'chosen' || rejected.pair !== 'rejected') continue;
      const source = byWhere.get(describeWhere(chosen.where));
      out.push({ where: chosen.where, split, chosen, rejected, text: source ? pairText(source) : null });
    }
  };
  add(prepared.train.examples, 'train');
  add(prepared.validation?.examples ?? [], 'validation');
  return out;
}

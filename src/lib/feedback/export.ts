// The store's pairs as a file: TRL's preference format, one {"prompt","chosen","rejected"} object per
// line (JSONL). The page's dataset loader (data/load.ts) and the command line
// (`lora-playground train --objective dpo --data preferences.jsonl`) read it back as they read any
// uploaded preference file, so the export is the bridge from clicks to a DPO run anywhere.
//
// Pairs whose answers were generated through the chat template are written in TRL's conversational
// form (prompt as a user message, each answer as an assistant message), so training renders them with
// the same template; the others as text. A file holds one form (TRL's `datasets` reads a column as one
// type): when the store mixes the two, every pair is written as text and `chatAsText` counts the chat
// pairs that lost their template.

import type { PreferenceRecord } from './verdicts.ts';

/** The file name an export and "Use for DPO" give the pairs. */
export const PREFERENCES_FILE = 'preferences.jsonl';

type Exported = Pick<PreferenceRecord, 'prompt' | 'chosen' | 'rejected' | 'chosenBy' | 'rejectedBy'>;

const isChat = (p: Exported) => p.chosenBy.chat && p.rejectedBy.chat;

/** The form a file of these pairs takes, and how many chat pairs it writes as text. */
export function exportForm(pairs: readonly Exported[]): { form: 'conversational' | 'text'; chatAsText: number } {
  const chat = pairs.filter(isChat).length;
  if (chat > 0 && chat === pairs.length) return { form: 'conversational', chatAsText: 0 };
  return { form: 'text', chatAsText: chat };
}

/** The pairs in TRL's preference format, one JSON object per line. */
export function preferencesJsonl(pairs: readonly Exported[]): string {
  const { form } = exportForm(pairs);
  const line = (p: Exported) =>
    form === 'conversational'
      ? {
          prompt: [{ role: 'user', content: p.prompt }],
          chosen: [{ role: 'assistant', content: p.chosen }],
          rejected: [{ role: 'assistant', content: p.rejected }],
        }
      : { prompt: p.prompt, chosen: p.chosen, rejected: p.rejected };
  return pairs.map((p) => JSON.stringify(line(p))).join('\n') + (pairs.length ? '\n' : '');
}

/** The same as bytes, as a dropped file would give them. */
export function preferencesFile(pairs: readonly Exported[]): { name: string; bytes: Uint8Array } {
  return { name: PREFERENCES_FILE, bytes: new TextEncoder().encode(preferencesJsonl(pairs)) };
}

// The store's pairs as a file: TRL's preference format, one {"prompt","chosen","rejected"} object per
// line (JSONL). The page's dataset loader (data/load.ts) and the command line
// (`lora-playground train --objective dpo --data preferences.jsonl`) read it back as they read any
// uploaded preference file, so the export is the bridge from clicks to a DPO run anywhere.

import type { PreferenceRecord } from './verdicts.ts';

/** The file name an export and "Use for DPO" give the pairs. */
export const PREFERENCES_FILE = 'preferences.jsonl';

/** The pairs in TRL's standard (text) preference format, one JSON object per line. */
export function preferencesJsonl(pairs: readonly Pick<PreferenceRecord, 'prompt' | 'chosen' | 'rejected'>[]): string {
  return pairs.map((p) => JSON.stringify({ prompt: p.prompt, chosen: p.chosen, rejected: p.rejected })).join('\n') + (pairs.length ? '\n' : '');
}

/** The same as bytes, as a dropped file would give them. */
export function preferencesFile(pairs: readonly Pick<PreferenceRecord, 'prompt' | 'chosen' | 'rejected'>[]): { name: string; bytes: Uint8Array } {
  return { name: PREFERENCES_FILE, bytes: new TextEncoder().encode(preferencesJsonl(pairs)) };
}

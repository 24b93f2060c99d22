// --general: the plain text a run's forgetting is measured on (pretrain/general.ts), read from a file
// or the built-in held-out Brown slice the app ships (static/corpus/brown-heldout.txt).

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { TextTokenizer } from '../lib/data/tokenize.ts';
import type { PackedRows } from '../lib/data/pack.ts';
import { BROWN_HELDOUT_PATH, generalTextRows } from '../lib/pretrain/general.ts';
import { existingFile, InputError } from './model.ts';

/** The built-in held-out Brown slice, as shipped in static/. */
export const BUILT_IN_GENERAL = fileURLToPath(new URL(`../../static/${BROWN_HELDOUT_PATH}`, import.meta.url));

export interface GeneralText {
  /** the file as given (or the built-in slice's path) */
  file: string;
  rows: PackedRows;
}

/** The general text of --general (the built-in slice when absent), packed into rows of T; null for --general none. */
export async function readGeneral(flag: string | undefined, tok: TextTokenizer, T: number): Promise<GeneralText | null> {
  if (flag === 'none') return null;
  const path = flag === undefined ? BUILT_IN_GENERAL : await existingFile('--general', flag);
  const text = await readFile(path, 'utf8');
  try {
    return { file: flag ?? `static/${BROWN_HELDOUT_PATH}`, rows: generalTextRows(text, tok, T) };
  } catch (e) {
    throw new InputError(`--general ${flag ?? path}: ${(e as Error).message}`);
  }
}

// What an imported adapter is called in the list when its files do not keep a name (PEFT's own
// exports, or files from before names were kept): the .zip's or folder's name, else the method.

import { METHOD_LABELS, type MethodType } from '../../lib/adapters/config.ts';

/** The name an imported adapter gets: the .zip's or folder's name, else the method. */
export function importedName(files: { name: string }[], method: MethodType): string {
  const zip = files.length === 1 ? files[0].name.replace(/\.zip$/i, '') : '';
  const folder = files.map((f) => f.name.split(/[\\/]/).slice(-2, -1)[0]).find(Boolean) ?? '';
  return zip || folder || `Imported ${METHOD_LABELS[method]}`;
}

// What an imported adapter is called in the list.

/** The name an imported adapter gets: the .zip's or folder's name, else the method. */
export function importedName(files: { name: string }[], peftType: string): string {
  const zip = files.length === 1 ? files[0].name.replace(/\.zip$/i, '') : '';
  const folder = files.map((f) => f.name.split(/[\\/]/).slice(-2, -1)[0]).find(Boolean) ?? '';
  const method = peftType === 'LORA' ? 'LoRA' : peftType === 'PREFIX_TUNING' ? 'Prefix' : 'Bottleneck';
  return zip || folder || `Imported ${method}`;
}

// Adapter names: what a person types in the list, checked before it is saved. Pure functions, so the
// rules are tested without a browser.

export const MAX_NAME_LENGTH = 80;

/**
 * Why `name` cannot name an adapter, or null when it can. Names are trimmed; they must be non-empty,
 * at most MAX_NAME_LENGTH characters, free of control characters and unique (case-insensitively)
 * among the other adapters. `selfId` is the adapter being renamed (its own name does not clash).
 */
export function nameProblem(name: string, others: { id: string; name: string }[], selfId?: string): string | null {
  const n = name.trim();
  if (n.length === 0) return 'a name cannot be empty';
  if ([...n].length > MAX_NAME_LENGTH) return `a name has at most ${MAX_NAME_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(n)) return 'a name cannot hold control characters (tabs, line breaks)';
  const clash = others.find((o) => o.id !== selfId && o.name.trim().toLowerCase() === n.toLowerCase());
  if (clash) return `an adapter named "${clash.name}" already exists`;
  return null;
}

/** `base`, or `base (2)`, `base (3)`, … — the first that no other adapter uses. */
export function uniqueName(base: string, others: { name: string }[]): string {
  const trimmed = [...base.trim()].slice(0, MAX_NAME_LENGTH - 5).join('') || 'adapter';
  const taken = new Set(others.map((o) => o.name.trim().toLowerCase()));
  if (!taken.has(trimmed.toLowerCase())) return trimmed;
  for (let i = 2; ; i++) {
    const candidate = `${trimmed} (${i})`;
    if (!taken.has(candidate.toLowerCase())) return candidate;
  }
}

/**
 * A file name for an exported adapter: the adapter's name with everything but letters, digits, '-',
 * '_' and '.' turned into '-', so it is safe on every file system.
 */
export function fileStem(name: string): string {
  const stem = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\w.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 60);
  return stem || 'adapter';
}

// Command-line flags: each command declares its flags once (name, kind, range, help); the parser reads
// `--name value` and `--name=value`, checks kinds and ranges, and names every mistake. The help text
// is made from the same declarations, so it cannot drift from what is parsed.

export type FlagKind = 'string' | 'int' | 'number' | 'boolean' | 'list';

export interface Flag {
  kind: FlagKind;
  /** One line for --help. */
  help: string;
  /** What the value is, for help and errors: DIR, FILE, N, X, TEXT. */
  value?: string;
  required?: boolean;
  /** Applied when the flag is absent, and shown in help. */
  default?: number | string;
  /** Inclusive bounds of a number. */
  min?: number;
  max?: number;
  /** The value must be below max (dropout < 1). */
  belowMax?: boolean;
  /** Allowed values of a string. */
  choices?: readonly string[];
  /** A list flag that may be given more than once; the occurrences' items are joined in order. */
  repeatable?: boolean;
}

export type Flags = Record<string, Flag>;

/** The parsed value of one flag: absent optional flags without a default are undefined. */
type ValueOf<F extends Flag> = F['kind'] extends 'int' | 'number' ? number : F['kind'] extends 'boolean' ? boolean : F['kind'] extends 'list' ? string[] : string;
export type Parsed<S extends Flags> = {
  [K in keyof S]: S[K] extends { required: true } | { default: number | string } | { kind: 'boolean' } ? ValueOf<S[K]> : ValueOf<S[K]> | undefined;
};

export interface Command<S extends Flags = Flags> {
  name: string;
  /** One line for the list of commands. */
  summary: string;
  /** A paragraph under the usage line. */
  description?: string;
  flags: S;
  examples: string[];
}

/** A mistake on the command line: the process exits with code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const PROGRAM = 'lora-playground';

/** Flags every command takes. */
export const COMMON_FLAGS = {
  json: { kind: 'boolean', help: 'print JSON lines, one object per event, ending in {"event":"result",…} or {"event":"error",…}' },
  help: { kind: 'boolean', help: 'show this help' },
} as const satisfies Flags;

/** maxNewTokens → max-new-tokens */
export const flagName = (key: string) => key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

function placeholder(flag: Flag): string {
  if (flag.kind === 'boolean') return '';
  return flag.value ?? (flag.kind === 'int' ? 'N' : flag.kind === 'number' ? 'X' : flag.kind === 'list' ? 'A,B' : 'TEXT');
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

function suggest(given: string, names: string[]): string {
  let best = '';
  let bestD = Infinity;
  const words = given.split('-');
  for (const n of names) {
    // A prefix, or every word of it in the name (--max-tokens → --max-new-tokens), is as good as one typo.
    const near = n.startsWith(given) || given.startsWith(n) || words.every((w) => n.split('-').includes(w));
    const d = near ? 1 : distance(given, n);
    if (d < bestD) [best, bestD] = [n, d];
  }
  return bestD <= Math.max(2, Math.floor(given.length / 3)) ? ` (did you mean --${best}?)` : '';
}

function parseValue(name: string, flag: Flag, raw: string): number | string | string[] {
  const what = `--${name}`;
  switch (flag.kind) {
    case 'int':
    case 'number': {
      const ok = flag.kind === 'int' ? /^[+-]?\d+$/.test(raw.trim()) : raw.trim() !== '' && Number.isFinite(Number(raw));
      if (!ok) throw new UsageError(`${what} takes ${flag.kind === 'int' ? 'a whole number' : 'a number'}, not ${JSON.stringify(raw)}`);
      const n = Number(raw);
      const tooLow = flag.min !== undefined && n < flag.min;
      const tooHigh = flag.max !== undefined && (flag.belowMax ? n >= flag.max : n > flag.max);
      if (tooLow || tooHigh) {
        const range =
          flag.min !== undefined && flag.max !== undefined
            ? `between ${flag.min} and ${flag.max}${flag.belowMax ? ' (less than ' + flag.max + ')' : ''}`
            : flag.min !== undefined
              ? `at least ${flag.min}`
              : `${flag.belowMax ? 'less than' : 'at most'} ${flag.max}`;
        throw new UsageError(`${what} must be ${range}, not ${raw}`);
      }
      return n;
    }
    case 'list': {
      const items = raw.split(',').map((s) => s.trim());
      if (items.some((s) => s === '')) throw new UsageError(`${what} takes a comma-separated list with no empty item, not ${JSON.stringify(raw)}`);
      return items;
    }
    default:
      if (flag.choices && !flag.choices.includes(raw)) {
        throw new UsageError(`${what} must be one of ${flag.choices.join(', ')}, not ${JSON.stringify(raw)}`);
      }
      if (raw === '') throw new UsageError(`${what} needs a non-empty value`);
      return raw;
  }
}

/**
 * Parses `argv` (the words after the command) against the command's flags and COMMON_FLAGS. Throws a
 * UsageError naming the first mistake: an unknown flag, a flag given twice, a missing or malformed
 * value, a value out of range, a stray word, or the required flags that are missing.
 */
export function parseFlags<S extends Flags>(command: Command<S>, argv: string[]): Parsed<S & typeof COMMON_FLAGS> {
  const flags: Flags = { ...command.flags, ...COMMON_FLAGS };
  const byName = new Map(Object.entries(flags).map(([key, f]) => [flagName(key), { key, flag: f }]));
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (!word.startsWith('--') || word === '--') {
      throw new UsageError(`unexpected argument ${JSON.stringify(word)}: \`${PROGRAM} ${command.name}\` takes only --flags (see --help)`);
    }
    const eq = word.indexOf('=');
    const name = word.slice(2, eq < 0 ? undefined : eq);
    const entry = byName.get(name);
    if (!entry) throw new UsageError(`unknown flag --${name} for \`${PROGRAM} ${command.name}\`${suggest(name, [...byName.keys()])}`);
    const { key, flag } = entry;
    const again = seen.has(name);
    if (again && !(flag.kind === 'list' && flag.repeatable)) throw new UsageError(`--${name} is given twice`);
    seen.add(name);
    if (flag.kind === 'boolean') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      out[key] = true;
      continue;
    }
    let raw: string;
    if (eq >= 0) raw = word.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`--${name} needs a value (${placeholder(flag)})`);
      raw = next;
      i++;
    }
    const value = parseValue(name, flag, raw);
    out[key] = again ? [...(out[key] as string[]), ...(value as string[])] : value;
  }
  if (out.help) return out as Parsed<S & typeof COMMON_FLAGS>;
  const missing = Object.entries(flags)
    .filter(([key, f]) => f.required && out[key] === undefined)
    .map(([key, f]) => `--${flagName(key)} ${placeholder(f)}`);
  if (missing.length) {
    const list = missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(', ')} and ${missing[missing.length - 1]}`;
    throw new UsageError(`missing ${list} (see \`${PROGRAM} ${command.name} --help\`)`);
  }
  for (const [key, f] of Object.entries(flags)) {
    if (out[key] !== undefined) continue;
    if (f.kind === 'boolean') out[key] = false;
    else if (f.default !== undefined) out[key] = f.default;
  }
  return out as Parsed<S & typeof COMMON_FLAGS>;
}

/** The help text of one command: usage, description, every flag with its default, examples. */
export function commandHelp(command: Command): string {
  const flags: Flags = { ...command.flags, ...COMMON_FLAGS };
  const rows = Object.entries(flags).map(([key, f]) => {
    const left = `--${flagName(key)}${f.kind === 'boolean' ? '' : ' ' + placeholder(f)}`;
    const range =
      f.min !== undefined && f.max !== undefined
        ? `${f.min} to ${f.max}${f.belowMax ? ', less than ' + f.max : ''}`
        : f.min !== undefined
          ? `at least ${f.min}`
          : '';
    const extra = [f.required ? 'required' : '', f.default !== undefined ? `default ${f.default}` : '', range, f.choices ? `one of ${f.choices.join(', ')}` : '']
      .filter(Boolean)
      .join('; ');
    return [left, f.help + (extra ? ` (${extra})` : '')];
  });
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  const usage = Object.entries(command.flags)
    .map(([key, f]) => {
      const one = `--${flagName(key)}${f.kind === 'boolean' ? '' : ' ' + placeholder(f)}`;
      return f.required ? one : `[${one}]`;
    })
    .join(' ');
  return [
    `Usage: ${PROGRAM} ${command.name} ${usage} [--json]`,
    '',
    command.summary,
    ...(command.description ? ['', command.description] : []),
    '',
    'Flags:',
    ...rows.map(([l, r]) => `  ${l.padEnd(width)}${r}`),
    '',
    'Examples:',
    ...command.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}

/** The help text of the program: its commands. */
export function programHelp(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    `Usage: ${PROGRAM} <command> [flags]`,
    '',
    "Runs LoRA Playground's engine (WGSL on WebGPU, through Dawn in Node) without the page.",
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    `Run \`${PROGRAM} <command> --help\` for its flags. Every command takes --json.`,
    '',
  ].join('\n');
}

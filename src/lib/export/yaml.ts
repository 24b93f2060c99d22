// A small YAML writer for the config files TRL and Accelerate read (`trl sft --config sft.yaml`,
// `accelerate launch --config_file …`). Both read them with PyYAML's safe_load, a YAML 1.1 parser, so
// every value is written in a form YAML 1.1 reads back as the same type:
//
//   null, true, false       as such
//   integers                digits: 8, -1
//   other numbers           always with a '.', and a signed exponent when there is one (2.0e-05):
//                           YAML 1.1 reads `2e-05` as the *string* "2e-05"
//   strings                 plain when they cannot be mistaken for anything else (q_proj,
//                           HuggingFaceTB/SmolLM2-135M, ./data); otherwise double-quoted, with every
//                           character PyYAML does not accept literally (controls, line separators,
//                           unpaired surrogates) escaped
//   lists, maps             block style, two spaces per level; [] and {} when empty
//
// Comments go above top-level keys and at the head of the file. Nothing else of YAML is written.

export type YamlScalar = string | number | boolean | null;
export type YamlValue = YamlScalar | YamlValue[] | YamlMap;
export interface YamlMap {
  [key: string]: YamlValue;
}

export interface YamlOptions {
  /** comment lines at the top of the file */
  header?: string[];
  /** comment lines written above a top-level key */
  comments?: Record<string, string[]>;
}

/** Words YAML 1.1 reads as booleans or null when plain. */
const RESERVED = new Set(
  ['y', 'yes', 'n', 'no', 'true', 'false', 'on', 'off', 'null'].flatMap((w) => [w, w[0].toUpperCase() + w.slice(1), w.toUpperCase()]),
);

/** A plain scalar that YAML 1.1 and 1.2 both read as this string: a name or a path, nothing else. */
const PLAIN = /^(?:\.{1,2}\/)?[A-Za-z_][A-Za-z0-9_./-]*$/;

/** Characters PyYAML accepts in a double-quoted scalar as they are (its printable set, minus line breaks). */
function literalInQuotes(code: number): boolean {
  if (code === 0x22 || code === 0x5c) return false; // " and \ are escaped
  if (code >= 0x20 && code <= 0x7e) return true;
  if (code === 0x85 || code === 0x2028 || code === 0x2029 || code === 0xfeff) return false; // line breaks, BOM
  return (code >= 0xa0 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || code >= 0x10000;
}

const ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r' };

function quoted(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    // `for…of` yields astral characters whole and unpaired surrogates alone (0xd800–0xdfff).
    if (literalInQuotes(code)) out += ch;
    else out += ESCAPES[ch] ?? `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return out + '"';
}

export function yamlString(s: string): string {
  return PLAIN.test(s) && !RESERVED.has(s) ? s : quoted(s);
}

export function yamlNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`YAML: ${n} is not a finite number`);
  if (Number.isSafeInteger(n) && !Object.is(n, -0)) return String(n);
  // JavaScript's shortest round-trip form, made a YAML 1.1 float: a '.' in the mantissa, and the
  // exponent's sign (JavaScript always writes it).
  const [mantissa, exponent] = (Object.is(n, -0) ? '-0' : String(n)).split('e');
  const m = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return exponent === undefined ? m : `${m}e${exponent}`;
}

function scalar(v: YamlScalar): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return yamlNumber(v);
  return yamlString(v);
}

const isMap = (v: YamlValue): v is YamlMap => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Lines of `value` written under a key or list item at `indent` spaces. */
function block(value: YamlValue[] | YamlMap, indent: number): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      if (Array.isArray(item) || isMap(item)) {
        const inner = nested(item, indent + 2);
        if (inner.inline !== null) lines.push(`${pad}- ${inner.inline}`);
        else {
          // The first line of a map item shares the dash's line; a list item starts below it.
          const [first, ...rest] = inner.lines;
          if (isMap(item)) lines.push(`${pad}- ${first.trimStart()}`, ...rest);
          else lines.push(`${pad}-`, first, ...rest);
        }
      } else lines.push(`${pad}- ${scalar(item)}`);
    }
  } else {
    for (const [key, item] of Object.entries(value)) {
      if (Array.isArray(item) || isMap(item)) {
        const inner = nested(item, indent + 2);
        if (inner.inline !== null) lines.push(`${pad}${yamlString(key)}: ${inner.inline}`);
        else lines.push(`${pad}${yamlString(key)}:`, ...inner.lines);
      } else lines.push(`${pad}${yamlString(key)}: ${scalar(item)}`);
    }
  }
  return lines;
}

/** An empty list or map is written inline ([] or {}); anything else as a block. */
function nested(value: YamlValue[] | YamlMap, indent: number): { inline: string | null; lines: string[] } {
  if (Array.isArray(value) && value.length === 0) return { inline: '[]', lines: [] };
  if (isMap(value) && Object.keys(value).length === 0) return { inline: '{}', lines: [] };
  return { inline: null, lines: block(value, indent) };
}

/** Comment lines; a character PyYAML refuses anywhere in a file (a control, an unpaired surrogate) becomes U+FFFD. */
const commentLines = (lines: string[]) =>
  lines
    .flatMap((l) => l.split('\n'))
    .map((l) => [...l].map((ch) => (literalInQuotes(ch.codePointAt(0)!) || ch === '"' || ch === '\\' ? ch : '\ufffd')).join(''))
    .map((l) => (l === '' ? '#' : `# ${l}`));

/** `map` as a YAML document, with its comments. */
export function toYaml(map: YamlMap, opts: YamlOptions = {}): string {
  const lines: string[] = opts.header?.length ? [...commentLines(opts.header), ''] : [];
  for (const [key, value] of Object.entries(map)) {
    const comment = opts.comments?.[key];
    if (comment?.length) lines.push(...commentLines(comment));
    lines.push(...block({ [key]: value }, 0));
  }
  return lines.join('\n') + '\n';
}

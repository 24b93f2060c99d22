// A value from a user's file, as an error message quotes it: JSON-like, at most `maxChars` characters,
// and safe for any input. JSON.stringify recurses once per level of nesting, so a value parsed from
// `[[[[…]]]]` (JSON.parse accepts a million levels) overflows the stack; and a 1 MB string would make a
// 1 MB message. Here nesting past MAX_DEPTH is shown as "…" and the text is cut at maxChars.

const MAX_DEPTH = 8;
/** Items of an array or object shown before "…". */
const MAX_ITEMS = 16;

/**
 * `x` as compact JSON text (as JSON.stringify writes it, NaN and Infinity by name), shortened:
 * `["q_proj",[[…]]]`, `"aaaa…… (1,000,000 characters)`.
 */
export function showValue(x: unknown, maxChars = 120): string {
  const out: string[] = [];
  let length = 0;
  const put = (s: string): boolean => {
    out.push(s);
    length += s.length;
    return length <= maxChars;
  };
  const walk = (v: unknown, depth: number): boolean => {
    if (v === undefined) return put('undefined');
    if (v === null || typeof v === 'boolean' || typeof v === 'number') return put(String(v));
    if (typeof v === 'bigint') return put(`${v}n`);
    if (typeof v === 'string') return put(JSON.stringify(v.length > maxChars ? v.slice(0, maxChars) : v));
    if (typeof v !== 'object') return put(String(typeof v));
    if (depth >= MAX_DEPTH) return put(Array.isArray(v) ? '[…]' : '{…}');
    const entries: [string | null, unknown][] = Array.isArray(v) ? v.slice(0, MAX_ITEMS + 1).map((e) => [null, e]) : Object.entries(v).slice(0, MAX_ITEMS + 1);
    if (!put(Array.isArray(v) ? '[' : '{')) return false;
    for (let i = 0; i < entries.length; i++) {
      if (i > 0 && !put(',')) return false;
      if (i === MAX_ITEMS) return put('…');
      const [key, e] = entries[i];
      if (key !== null && !put(`${JSON.stringify(key.length > maxChars ? key.slice(0, maxChars) : key)}:`)) return false;
      if (!walk(e, depth + 1)) return false;
    }
    return put(Array.isArray(v) ? ']' : '}');
  };
  const whole = walk(x, 0);
  const text = out.join('');
  if (whole && text.length <= maxChars) return text;
  const total = typeof x === 'string' ? ` (${x.length.toLocaleString('en-US')} characters)` : '';
  return `${text.slice(0, maxChars)}…${total}`;
}

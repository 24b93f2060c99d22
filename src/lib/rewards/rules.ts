// Rule rewards: a score for an answer from what its text is, no model involved — what RAFT ranks
// samples by when there is no reward model. A spec is weighted terms joined by commas, each
// `kind[:argument][*weight]`, and the reward is Σ weight · term (weight 1 when left out):
//
//   contains:TEXT      1 if the answer contains TEXT (case-sensitive), else 0
//   notcontains:TEXT   1 if it does not
//   regex:PATTERN      1 if PATTERN (RE2 syntax, matched anywhere) matches: re2js runs it in time
//                      linear in the answer, whatever the pattern (no backtracking blow-up)
//   len:MIN-MAX        1 if the answer's length in characters (trimmed) is within [MIN, MAX]
//   upper              the share of the answer's letters that are upper case, in [0, 1]
//   exact[:TEXT]       1 if the trimmed answer equals TEXT (or, without TEXT, the prompt's reference
//                      answer) trimmed
//
// e.g. 'contains:cat*1,len:10-40*0.5'. `\,` is a literal comma inside an argument; a weight is the
// last `*NUMBER` of a term, so a pattern that itself ends in `*` and digits takes an explicit weight
// after it ('regex:a*2*1').
import { RE2JS } from 're2js';

export type RuleTerm =
  | { kind: 'contains' | 'notcontains'; text: string; weight: number }
  | { kind: 'regex'; pattern: string; re: RE2JS; weight: number }
  | { kind: 'len'; min: number; max: number; weight: number }
  | { kind: 'upper'; weight: number }
  | { kind: 'exact'; text: string | null; weight: number };

export interface RuleReward {
  spec: string;
  terms: RuleTerm[];
}

export const RULE_KINDS = ['contains', 'notcontains', 'regex', 'len', 'upper', 'exact'] as const;

/** Longest regex accepted, in characters. */
const MAX_PATTERN = 512;

export class RewardSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RewardSpecError';
  }
}

/** Splits on commas not escaped as `\,` (which become plain commas). */
function splitTerms(spec: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < spec.length; i++) {
    if (spec[i] === '\\' && spec[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (spec[i] === ',') {
      out.push(cur);
      cur = '';
    } else cur += spec[i];
  }
  out.push(cur);
  return out;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/** Parses a rule spec; every mistake is named with the term it is in. */
export function parseRewardSpec(spec: string): RuleReward {
  if (spec.trim() === '') throw new RewardSpecError(`the reward spec is empty: give terms like 'contains:cat*1,len:10-40*0.5' (kinds: ${RULE_KINDS.join(', ')})`);
  const terms = splitTerms(spec).map((raw, i) => {
    const where = `reward term ${i + 1} ${JSON.stringify(raw)}`;
    let body = raw;
    let weight = 1;
    const star = raw.lastIndexOf('*');
    if (star >= 0 && NUMBER.test(raw.slice(star + 1).trim())) {
      weight = Number(raw.slice(star + 1));
      body = raw.slice(0, star);
    }
    if (!Number.isFinite(weight)) throw new RewardSpecError(`${where}: the weight must be a finite number`);
    const colon = body.indexOf(':');
    const kind = (colon < 0 ? body : body.slice(0, colon)).trim();
    const arg = colon < 0 ? null : body.slice(colon + 1);
    const need = () => {
      if (arg === null || arg === '') throw new RewardSpecError(`${where}: ${kind} needs a text after the colon, e.g. ${kind}:cat`);
      return arg;
    };
    switch (kind) {
      case 'contains':
      case 'notcontains':
        return { kind, text: need(), weight } as RuleTerm;
      case 'regex': {
        const pattern = need();
        if (pattern.length > MAX_PATTERN) throw new RewardSpecError(`${where}: the pattern is longer than ${MAX_PATTERN} characters`);
        let re: RE2JS;
        try {
          re = RE2JS.compile(pattern);
        } catch (e) {
          throw new RewardSpecError(`${where}: not a pattern RE2 can run (${(e as Error).message}); lookaround and backreferences are not supported`);
        }
        return { kind, pattern, re, weight };
      }
      case 'len': {
        const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(arg ?? '');
        if (!m) throw new RewardSpecError(`${where}: len takes a range of characters, e.g. len:10-40`);
        const [min, max] = [Number(m[1]), Number(m[2])];
        if (min > max) throw new RewardSpecError(`${where}: the range ${min}-${max} is empty (the first number must not exceed the second)`);
        return { kind, min, max, weight };
      }
      case 'upper':
        if (arg !== null) throw new RewardSpecError(`${where}: upper takes no argument (it is the share of upper-case letters)`);
        return { kind, weight };
      case 'exact':
        return { kind, text: arg === null ? null : arg, weight };
      default:
        throw new RewardSpecError(`${where}: unknown kind ${JSON.stringify(kind)} (kinds: ${RULE_KINDS.join(', ')})`);
    }
  });
  return { spec, terms };
}

/** One term's value in [0, 1] for `answer` (reference: the prompt's reference answer, for exact). */
export function termValue(t: RuleTerm, answer: string, reference: string | null = null): number {
  switch (t.kind) {
    case 'contains':
      return answer.includes(t.text) ? 1 : 0;
    case 'notcontains':
      return answer.includes(t.text) ? 0 : 1;
    case 'regex':
      return t.re.matcher(answer).find() ? 1 : 0;
    case 'len': {
      const n = [...answer.trim()].length;
      return n >= t.min && n <= t.max ? 1 : 0;
    }
    case 'upper': {
      const letters = [...answer].filter((c) => c.toLowerCase() !== c.toUpperCase());
      return letters.length ? letters.filter((c) => c === c.toUpperCase()).length / letters.length : 0;
    }
    case 'exact': {
      const want = t.text ?? reference;
      if (want === null) throw new RewardSpecError("exact with no text compares with the prompt's reference answer, and this prompt has none");
      return answer.trim() === want.trim() ? 1 : 0;
    }
  }
}

/** Σ weight · term for `answer`. */
export function ruleReward(r: RuleReward, answer: string, reference: string | null = null): number {
  let sum = 0;
  for (const t of r.terms) sum += t.weight * termValue(t, answer, reference);
  return sum;
}

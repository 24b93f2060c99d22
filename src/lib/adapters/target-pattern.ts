// target_modules given as one string: PEFT matches it with Python's re.fullmatch against every module
// path. The string comes from a file anyone can share, so it is never run by a backtracking engine
// (JavaScript's RegExp takes exponential time on "(.|.)*Z"): RE2JS, a port of RE2, matches in time
// linear in the path for any pattern. What RE2 cannot run in linear time — backreferences,
// lookahead and lookbehind — it refuses, and so do we, with the reason. The pattern's length and
// compiled size are capped as well, so compiling it is cheap too.

import { RE2JS } from 're2js';

/** Longest target_modules pattern accepted, in characters (PEFT's own are a few dozen). */
export const MAX_TARGET_PATTERN_CHARS = 512;
/** Largest compiled pattern accepted, in RE2 instructions ("x{1000}" alone is about 1,000). */
export const MAX_TARGET_PATTERN_PROGRAM = 10_000;

export class TargetPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetPatternError';
  }
}

/**
 * Python's `\Z` (end of string) is RE2's `\z`; every other construct the two share is spelled the
 * same. Escaped backslashes are skipped, so `\\Z` stays a backslash followed by Z.
 */
function fromPython(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) {
      const next = pattern[i + 1];
      out += next === 'Z' ? '\\z' : c + next;
      i++;
    } else out += c;
  }
  return out;
}

/** Why RE2 refused a pattern, in words a user can act on. */
function explain(message: string): string {
  if (/unsupported Perl syntax: `\(\?[=!]/.test(message) || /invalid named capture: `\(\?<[=!]/.test(message)) {
    return 'lookahead and lookbehind ((?=…), (?!…), (?<=…), (?<!…)) cannot be matched in linear time';
  }
  if (/invalid escape sequence: `\\[1-9]/.test(message) || /`\(\?P=/.test(message)) return 'backreferences cannot be matched in linear time';
  return message.replace(/^error parsing regexp: /, '');
}

const cache = new Map<string, RE2JS>();
const CACHE_SIZE = 16;

/**
 * The compiled pattern; throws a TargetPatternError naming the problem when it is too long, too
 * large, or not a regular expression RE2 runs.
 */
export function compileTargetPattern(pattern: string): RE2JS {
  const hit = cache.get(pattern);
  if (hit) return hit;
  if (pattern.length > MAX_TARGET_PATTERN_CHARS) {
    throw new TargetPatternError(`is ${pattern.length.toLocaleString('en-US')} characters long, over the limit of ${MAX_TARGET_PATTERN_CHARS} for a target_modules pattern`);
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(fromPython(pattern));
  } catch (e) {
    throw new TargetPatternError(`is not a regular expression this app can run: ${explain(String((e as Error)?.message ?? e))}`);
  }
  const size = re.programSize();
  if (size > MAX_TARGET_PATTERN_PROGRAM) {
    throw new TargetPatternError(`compiles to ${size.toLocaleString('en-US')} instructions, over the limit of ${MAX_TARGET_PATTERN_PROGRAM.toLocaleString('en-US')} (repeat counts such as {1000} add up)`);
  }
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(pattern, re);
  return re;
}

/** Why `pattern` cannot be a target_modules pattern, or null when it can. */
export function targetPatternProblem(pattern: string): string | null {
  try {
    compileTargetPattern(pattern);
    return null;
  } catch (e) {
    if (e instanceof TargetPatternError) return e.message;
    throw e;
  }
}

/** re.fullmatch(pattern, module) as PEFT calls it, in time linear in the module path. */
export function fullMatch(pattern: string, module: string): boolean {
  return compileTargetPattern(pattern).testExact(module);
}

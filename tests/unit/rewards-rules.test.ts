// Rule rewards (src/lib/rewards/rules.ts): the spec language, each kind's value, weights adding up,
// and every mistake in a spec named with its term.
import { describe, expect, it } from 'vitest';
import { parseRewardSpec, ruleReward, termValue } from '../../src/lib/rewards/rules';

describe('rule rewards', () => {
  it('combines weighted terms: contains:cat*1,len:10-40*0.5', () => {
    const r = parseRewardSpec('contains:cat*1,len:10-40*0.5');
    expect(r.terms.map((t) => [t.kind, t.weight])).toEqual([['contains', 1], ['len', 0.5]]);
    expect(ruleReward(r, 'the cat sat on the mat')).toBe(1.5);
    expect(ruleReward(r, 'a cat')).toBe(1); // too short for len
    expect(ruleReward(r, 'the dog sat on the mat')).toBe(0.5);
    expect(ruleReward(r, 'a dog')).toBe(0);
  });

  it('gives each kind its value', () => {
    const one = (spec: string, answer: string, ref: string | null = null) => termValue(parseRewardSpec(spec).terms[0], answer, ref);
    expect([one('contains:Cat', 'the cat'), one('contains:cat', 'the cat')]).toEqual([0, 1]);
    expect([one('notcontains:cat', 'the cat'), one('notcontains:cat', 'the dog')]).toEqual([0, 1]);
    expect([one('regex:^\\s*[0-9]+\\.$', ' 42.'), one('regex:^\\s*[0-9]+\\.$', ' 42 apples.')]).toEqual([1, 0]);
    expect([one('len:3-5', '  abc  '), one('len:3-5', 'abcdef'), one('len:0-0', '')]).toEqual([1, 0, 1]);
    expect([one('upper', 'ABcd!'), one('upper', 'HELLO, World'), one('upper', '123')]).toEqual([0.5, 6 / 10, 0]);
    expect([one('exact: Paris.', 'Paris. '), one('exact:Paris', 'Paris.')]).toEqual([1, 0]);
    expect([one('exact', ' Rome.', 'Rome.'), one('exact', 'Paris.', 'Rome.')]).toEqual([1, 0]);
  });

  it('reads escaped commas, default weights, negative weights and a pattern ending in *digits', () => {
    const r = parseRewardSpec('contains:a\\, b,notcontains:zzz*-2,regex:x*2*1');
    expect(r.terms).toMatchObject([
      { kind: 'contains', text: 'a, b', weight: 1 },
      { kind: 'notcontains', text: 'zzz', weight: -2 },
      { kind: 'regex', pattern: 'x*2', weight: 1 },
    ]);
    expect(ruleReward(r, 'a, b and zzz')).toBe(1); // contains 1, notcontains 0 (·−2), x*2 needs a 2: 0
    expect(ruleReward(r, 'a, b 2')).toBe(1 - 2 + 1);
  });

  it('runs a pattern that backtracking engines take exponential time on, in linear time', () => {
    const r = parseRewardSpec('regex:(a|aa)*b');
    expect(ruleReward(r, 'a'.repeat(5000))).toBe(0);
  });

  it('names every mistake with its term', () => {
    const bad: [string, RegExp][] = [
      ['', /the reward spec is empty/],
      ['contains', /reward term 1 "contains": contains needs a text after the colon/],
      ['len:9-3', /the range 9-3 is empty/],
      ['len:abc', /len takes a range of characters, e.g. len:10-40/],
      ['upper:5', /upper takes no argument/],
      ['contains:x,shout:loud', /reward term 2 "shout:loud": unknown kind "shout"/],
      ['regex:(a', /not a pattern RE2 can run/],
      ['regex:(?=a)b', /lookaround and backreferences are not supported/],
    ];
    for (const [spec, why] of bad) expect(() => parseRewardSpec(spec), spec).toThrow(why);
    expect(() => termValue(parseRewardSpec('exact').terms[0], 'x', null)).toThrow(/this prompt has none/);
  });
});

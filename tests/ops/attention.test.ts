import { describe, expect, test } from 'vitest';
import { gradcheck, randn } from '../helpers/gradcheck.ts';
import { backward, forward, type AttentionShape } from '../../src/lib/ops/attention/reference.ts';

describe('attention reference (float64)', () => {
  const cases: [string, AttentionShape][] = [
    ['multi-head, no prefix', { B: 2, T: 5, NH: 2, NKV: 2, HS: 4, P: 0 }],
    ['grouped-query NH=4·NKV', { B: 2, T: 4, NH: 4, NKV: 1, HS: 3, P: 0 }],
    ['grouped-query with prefix P=3', { B: 2, T: 4, NH: 4, NKV: 2, HS: 3, P: 3 }],
  ];
  test.each(cases)('gradients match central differences: %s', (_name, s) => {
    const inputs = [
      randn(s.B * s.T * s.NH * s.HS, 1),
      randn(s.B * s.T * s.NKV * s.HS, 2),
      randn(s.B * s.T * s.NKV * s.HS, 3),
      randn(s.P * s.NKV * s.HS, 4),
      randn(s.P * s.NKV * s.HS, 5),
    ];
    let cache: ReturnType<typeof forward>['cache'] | undefined;
    const r = gradcheck(
      ([q, k, v, pk, pv]) => {
        const f = forward(q, k, v, s, pk, pv);
        cache = f.cache;
        return f.out;
      },
      (dout) => {
        forward(inputs[0], inputs[1], inputs[2], s, inputs[3], inputs[4]);
        const g = backward(dout, cache!);
        return [g.dq, g.dk, g.dv, g.dpk, g.dpv];
      },
      inputs,
      { maxPerInput: 1000 },
    );
    expect(r.checked).toBeGreaterThan(0);
    expect(r.maxError).toBeLessThan(1e-7);
  });
});

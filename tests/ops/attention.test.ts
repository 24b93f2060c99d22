// Causal self-attention: grouped-query heads, optional prefix keys/values (prefix tuning), saved
// log-sum-exp, a deterministic backward, and the KV-cache decode variant.
import { describe, expect, it } from 'vitest';
import { expectClose, expectReferenceGradients, input, randF32, randn, runOp, TOL, useGpu, zeros } from '../helpers/op-test.ts';
import * as ref from '../../src/lib/ops/attention/reference.ts';
import { attentionBackward, attentionDecode, attentionForward } from '../../src/lib/ops/attention/attention.ts';

const gpu = useGpu();

type Shape = ref.AttentionShape;
const sh = (B: number, T: number, NH: number, NKV: number, HS: number, P: number): Shape => ({ B, T, NH, NKV, HS, P });

// The tiles are 16 (forward), 8/16 (backward) rows and keys: T = 13, 19, 37 end mid-tile, 70 spans
// several; NH = 4·NKV is grouped-query attention; P = 3 prefix positions; HS 16, 32, 64 (typical), 128.
const SHAPES: [string, Shape][] = [
  ['B=2 T=13 NH=NKV=2 HS=16', sh(2, 13, 2, 2, 16, 0)],
  ['B=2 T=19 NH=4 NKV=1 HS=32 (GQA)', sh(2, 19, 4, 1, 32, 0)],
  ['B=2 T=37 NH=NKV=2 HS=16 P=3', sh(2, 37, 2, 2, 16, 3)],
  ['B=2 T=21 NH=4 NKV=2 HS=32 P=3 (GQA)', sh(2, 21, 4, 2, 32, 3)],
  ['B=1 T=70 NH=2 NKV=1 HS=64 P=3 (GQA)', sh(1, 70, 2, 1, 64, 3)],
  ['B=2 T=9 NH=2 NKV=1 HS=128 P=2 (large heads)', sh(2, 9, 2, 1, 128, 2)],
];

/** Seeded float32 inputs for a shape: q, k, v and the prefix pk, pv (P,NKV,HS). */
function inputs(s: Shape, seed: number) {
  return {
    q: randF32(s.B * s.T * s.NH * s.HS, seed),
    k: randF32(s.B * s.T * s.NKV * s.HS, seed + 1),
    v: randF32(s.B * s.T * s.NKV * s.HS, seed + 2),
    pk: randF32(s.P * s.NKV * s.HS, seed + 3),
    pv: randF32(s.P * s.NKV * s.HS, seed + 4),
  };
}

/**
 * The prefix as one tensor of `layers` layers in PEFT's prompt_embeddings layout (P, L·2·NKV·HS):
 * layer l's key of row p at p·stride + 2l·NKV·HS, its value NKV·HS later; other layers hold `fill`.
 */
function peftPrefix(s: Shape, pk: ArrayLike<number>, pv: ArrayLike<number>, layer = 0, layers = 1, fill?: Float64Array) {
  const row = s.NKV * s.HS;
  const stride = layers * 2 * row;
  const data = fill ? Float64Array.from(fill) : new Float64Array(s.P * stride);
  for (let p = 0; p < s.P; p++) {
    for (let e = 0; e < row; e++) {
      data[p * stride + 2 * layer * row + e] = pk[p * row + e];
      data[p * stride + (2 * layer + 1) * row + e] = pv[p * row + e];
    }
  }
  return { data, shape: [s.P, stride], offset: 2 * layer * row, stride };
}

/** A backward case: inputs and dout from their seeds, the reference forward and gradients, q and k/v shapes. */
function backwardCase(s: Shape, seed: number, doutSeed: number) {
  const x = inputs(s, seed);
  const want = ref.forward(x.q, x.k, x.v, s, x.pk, x.pv);
  const dout = randF32(want.out.length, doutSeed);
  return { x, want, dout, g: ref.backward(dout, want.cache), qs: [s.B, s.T, s.NH, s.HS], ks: [s.B, s.T, s.NKV, s.HS] };
}

describe('attention reference (float64)', () => {
  it.each([
    ['multi-head, no prefix', sh(2, 5, 2, 2, 4, 0)],
    ['grouped-query NH=4·NKV', sh(2, 4, 4, 1, 3, 0)],
    ['grouped-query with prefix P=3', sh(2, 4, 4, 2, 3, 3)],
  ])('gradients match central differences: %s', (_name, s) => {
    const x = [
      randn(s.B * s.T * s.NH * s.HS, 1),
      randn(s.B * s.T * s.NKV * s.HS, 2),
      randn(s.B * s.T * s.NKV * s.HS, 3),
      randn(s.P * s.NKV * s.HS, 4),
      randn(s.P * s.NKV * s.HS, 5),
    ];
    expectReferenceGradients(
      ([q, k, v, pk, pv]) => ref.forward(q, k, v, s, pk, pv),
      (dout, cache) => {
        const g = ref.backward(dout, cache);
        return [g.dq, g.dk, g.dv, g.dpk, g.dpv];
      },
      x,
      { maxError: 1e-7 },
    );
  });

  it('the first token attends only to itself, so its output is its own value', () => {
    const s = sh(1, 3, 2, 2, 4, 0);
    const { q, k, v } = inputs(s, 1);
    const { out } = ref.forward(q, k, v, s);
    for (let h = 0; h < 2; h++) {
      for (let d = 0; d < 4; d++) expect(out[h * 4 + d]).toBeCloseTo(v[h * 4 + d], 14);
    }
  });

  it('is causal: changing a later token leaves earlier outputs unchanged', () => {
    const s = sh(1, 6, 2, 1, 4, 2);
    const x = inputs(s, 2);
    const a = ref.forward(x.q, x.k, x.v, s, x.pk, x.pv).out;
    const k2 = Float64Array.from(x.k);
    const v2 = Float64Array.from(x.v);
    for (let i = 4 * 4; i < k2.length; i++) (k2[i] += 1), (v2[i] -= 1); // tokens 4 and 5
    const b = ref.forward(x.q, k2, v2, s, x.pk, x.pv).out;
    const perToken = s.NH * s.HS;
    expect(Array.from(b.subarray(0, 4 * perToken))).toEqual(Array.from(a.subarray(0, 4 * perToken)));
    expect(Math.abs(b[5 * perToken] - a[5 * perToken])).toBeGreaterThan(1e-6);
  });

  it('grouped-query attention equals multi-head attention with each kv head repeated', () => {
    const gqa = sh(2, 5, 4, 2, 3, 2);
    const mha = { ...gqa, NKV: 4 };
    const x = inputs(gqa, 3);
    const repeat = (a: Float64Array, rows: number) => {
      const r = new Float64Array(rows * 4 * 3);
      for (let i = 0; i < rows; i++) for (let h = 0; h < 4; h++) for (let d = 0; d < 3; d++) r[(i * 4 + h) * 3 + d] = a[(i * 2 + (h >> 1)) * 3 + d];
      return r;
    };
    const a = ref.forward(x.q, x.k, x.v, gqa, x.pk, x.pv).out;
    const b = ref.forward(x.q, repeat(x.k, 10), repeat(x.v, 10), mha, repeat(x.pk, 2), repeat(x.pv, 2)).out;
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 12);
  });
});

describe('attention on the GPU', () => {
  it.each(SHAPES)('forward matches the reference (out and lse): %s', async (_name, s) => {
    const x = inputs(s, 10);
    const pre = peftPrefix(s, x.pk, x.pv);
    const got = await runOp(
      gpu(),
      {
        out: zeros([s.B, s.T, s.NH, s.HS]),
        lse: zeros([s.B, s.NH, s.T]),
        q: input(x.q, [s.B, s.T, s.NH, s.HS]),
        k: input(x.k, [s.B, s.T, s.NKV, s.HS]),
        v: input(x.v, [s.B, s.T, s.NKV, s.HS]),
        prefix: input(s.P ? pre.data : [0], s.P ? pre.shape : [1]),
      },
      (rec, t) => attentionForward(rec, t.out, t.lse, t.q, t.k, t.v, { prefix: s.P ? { kv: t.prefix, P: s.P } : undefined }),
    );
    const want = ref.forward(x.q, x.k, x.v, s, x.pk, x.pv);
    expectClose(got.out, want.out, TOL.elementwise, 'attention out');
    expectClose(got.lse, want.cache.lse, TOL.elementwise, 'attention lse');
    expect(Array.from(got.q)).toEqual(Array.from(x.q));
  });

  it.each(SHAPES)('backward adds the reference gradients into dq, dk, dv, dprefix: %s', async (_name, s) => {
    const { x, want, dout, g, qs, ks } = backwardCase(s, 20, 25);
    // Gradients already holding another path's contribution.
    const dq0 = randF32(g.dq.length, 26);
    const dk0 = randF32(g.dk.length, 27);
    const dv0 = randF32(g.dv.length, 28);
    const pre = peftPrefix(s, x.pk, x.pv);
    const dpre0 = peftPrefix(s, randF32(g.dpk.length, 29), randF32(g.dpv.length, 30));
    const got = await runOp(
      gpu(),
      {
        dq: input(dq0, qs),
        dk: input(dk0, ks),
        dv: input(dv0, ks),
        dprefix: input(s.P ? dpre0.data : [0], s.P ? pre.shape : [1]),
        dout: input(dout, qs),
        out: input(roundToF32(want.out), qs),
        q: input(x.q, qs),
        k: input(x.k, ks),
        v: input(x.v, ks),
        lse: input(roundToF32(want.cache.lse), [s.B, s.NH, s.T]),
        prefix: input(s.P ? pre.data : [0], s.P ? pre.shape : [1]),
      },
      (rec, t) =>
        attentionBackward(
          rec, t.dq, t.dk, t.dv, s.P ? t.dprefix : null,
          t.dout, t.out, t.q, t.k, t.v, t.lse, { prefix: s.P ? { kv: t.prefix, P: s.P } : undefined },
        ),
    );
    const plus = (a: Float64Array, b: Float64Array) => a.map((y, i) => y + b[i]);
    expectClose(got.dq, plus(dq0, g.dq), TOL.reduction, 'attention dq');
    expectClose(got.dk, plus(dk0, g.dk), TOL.reduction, 'attention dk');
    expectClose(got.dv, plus(dv0, g.dv), TOL.reduction, 'attention dv');
    if (s.P) {
      const wantPrefix = peftPrefix(s, plus(randF32(g.dpk.length, 29), g.dpk), plus(randF32(g.dpv.length, 30), g.dpv));
      expectClose(got.dprefix, wantPrefix.data, TOL.reduction, 'attention dprefix');
    }
  });

  it('backward with accumulate: false overwrites, and is bitwise deterministic', async () => {
    const s = sh(2, 23, 4, 2, 16, 3);
    const { x, want, dout, g, qs, ks } = backwardCase(s, 40, 41);
    const pre = peftPrefix(s, x.pk, x.pv);
    const run = () =>
      runOp(
        gpu(),
        {
          dq: input(randF32(g.dq.length, 42), qs),
          dk: input(randF32(g.dk.length, 43), ks),
          dv: input(randF32(g.dv.length, 44), ks),
          dprefix: input(randF32(pre.data.length, 45), pre.shape),
          dout: input(dout, qs),
          out: input(roundToF32(want.out), qs),
          q: input(x.q, qs),
          k: input(x.k, ks),
          v: input(x.v, ks),
          lse: input(roundToF32(want.cache.lse), [s.B, s.NH, s.T]),
          prefix: input(pre.data, pre.shape),
        },
        (rec, t) =>
          attentionBackward(
            rec, t.dq, t.dk, t.dv, t.dprefix,
            t.dout, t.out, t.q, t.k, t.v, t.lse, { prefix: { kv: t.prefix, P: s.P }, accumulate: false },
          ),
      );
    const a = await run();
    expectClose(a.dq, g.dq, TOL.reduction, 'dq');
    expectClose(a.dk, g.dk, TOL.reduction, 'dk');
    expectClose(a.dv, g.dv, TOL.reduction, 'dv');
    expectClose(a.dprefix, peftPrefix(s, g.dpk, g.dpv).data, TOL.reduction, 'dprefix');
    const b = await run();
    for (const name of ['dq', 'dk', 'dv', 'dprefix'] as const) expect(Array.from(b[name])).toEqual(Array.from(a[name]));
  });

  it("reads and writes one layer's slice of PEFT prompt_embeddings (P, L·2·NKV·HS) in place", async () => {
    const s = sh(2, 11, 4, 2, 16, 3);
    const L = 3;
    const layer = 1;
    const { x, want, dout, g, qs, ks } = backwardCase(s, 50, 53);
    const row = s.NKV * s.HS;
    const others = randF32(s.P * L * 2 * row, 51); // the other layers' entries, which must not matter
    const pre = peftPrefix(s, x.pk, x.pv, layer, L, others);
    const grad0 = randF32(pre.data.length, 52);
    const got = await runOp(
      gpu(),
      {
        out: zeros(qs),
        lse: zeros([s.B, s.NH, s.T]),
        dq: zeros(qs),
        dk: zeros(ks),
        dv: zeros(ks),
        dprefix: input(grad0, pre.shape),
        dout: input(dout, qs),
        q: input(x.q, qs),
        k: input(x.k, ks),
        v: input(x.v, ks),
        prefix: input(pre.data, pre.shape),
      },
      (rec, t) => {
        const prefix = { kv: t.prefix, P: s.P, offset: pre.offset, stride: pre.stride };
        attentionForward(rec, t.out, t.lse, t.q, t.k, t.v, { prefix });
        attentionBackward(
          rec, t.dq, t.dk, t.dv, t.dprefix,
          t.dout, t.out, t.q, t.k, t.v, t.lse, { prefix },
        );
      },
    );
    expectClose(got.out, want.out, TOL.elementwise, 'out');
    expectClose(got.dq, g.dq, TOL.reduction, 'dq');
    // Layer 1's slice gains the gradient; the other layers' gradients are untouched.
    const wantGrad = peftPrefix(
      s,
      g.dpk.map((d, i) => d + grad0[Math.floor(i / row) * pre.stride + pre.offset + (i % row)]),
      g.dpv.map((d, i) => d + grad0[Math.floor(i / row) * pre.stride + pre.offset + row + (i % row)]),
      layer,
      L,
      grad0,
    );
    expectClose(got.dprefix, wantGrad.data, TOL.reduction, 'dprefix');
  });

  it.each([
    ['one new token, no prefix', sh(2, 20, 4, 1, 32, 0), 1, true],
    ['three new tokens, no prefix', sh(2, 20, 2, 2, 16, 0), 3, true],
    ['one new token with a prefix, lse not kept', sh(2, 20, 4, 2, 16, 3), 1, false],
    ['five new tokens with a prefix, HS=64', sh(1, 35, 2, 1, 64, 3), 5, true],
  ])('KV-cache decode matches the last rows of the full forward: %s', async (_name, s, Tn, keepLse) => {
    const maxT = s.T + 9; // cache slots past the valid positions hold junk the kernel must ignore
    const past = s.T - Tn;
    const x = inputs(s, 60);
    const full = ref.forward(x.q, x.k, x.v, s, x.pk, x.pv);
    const cache = (a: Float64Array, seed: number) => {
      const c = randF32(s.B * maxT * s.NKV * s.HS, seed, 100);
      const per = s.T * s.NKV * s.HS;
      for (let b = 0; b < s.B; b++) c.set(a.subarray(b * per, (b + 1) * per), b * maxT * s.NKV * s.HS);
      return c;
    };
    const lastRows = (a: Float64Array, rowsPerB: number, width: number, n: number) => {
      const r = new Float64Array(s.B * n * width);
      for (let b = 0; b < s.B; b++) r.set(a.subarray((b * rowsPerB + rowsPerB - n) * width, (b * rowsPerB + rowsPerB) * width), b * n * width);
      return r;
    };
    const qNew = lastRows(x.q, s.T, s.NH * s.HS, Tn);
    const pre = peftPrefix(s, x.pk, x.pv);
    const got = await runOp(
      gpu(),
      {
        out: zeros([s.B, Tn, s.NH, s.HS]),
        lse: zeros([s.B, s.NH, Tn]),
        q: input(qNew, [s.B, Tn, s.NH, s.HS]),
        kCache: input(cache(x.k, 61), [s.B, maxT, s.NKV, s.HS]),
        vCache: input(cache(x.v, 62), [s.B, maxT, s.NKV, s.HS]),
        prefix: input(s.P ? pre.data : [0], s.P ? pre.shape : [1]),
      },
      (rec, t) =>
        attentionDecode(rec, t.out, keepLse ? t.lse : null, t.q, t.kCache, t.vCache, past, { prefix: s.P ? { kv: t.prefix, P: s.P } : undefined }),
    );
    expectClose(got.out, lastRows(full.out, s.T, s.NH * s.HS, Tn), TOL.elementwise, 'decode out');
    if (!keepLse) return;
    const wantLse = new Float64Array(s.B * s.NH * Tn);
    for (let bh = 0; bh < s.B * s.NH; bh++) wantLse.set(full.cache.lse.subarray(bh * s.T + s.T - Tn, (bh + 1) * s.T), bh * Tn);
    expectClose(got.lse, wantLse, TOL.elementwise, 'decode lse');
  });

  it('serves every shape of a head-size class from one pipeline per kernel', async () => {
    const g = gpu();
    const shapes = [sh(1, 5, 2, 2, 16, 0), sh(2, 9, 4, 1, 32, 2), sh(1, 17, 3, 3, 64, 0)];
    const counts: number[] = [];
    for (const s of shapes) {
      const x = inputs(s, 70);
      await runOp(
        g,
        {
          out: zeros([s.B, s.T, s.NH, s.HS]),
          lse: zeros([s.B, s.NH, s.T]),
          q: input(x.q, [s.B, s.T, s.NH, s.HS]),
          k: input(x.k, [s.B, s.T, s.NKV, s.HS]),
          v: input(x.v, [s.B, s.T, s.NKV, s.HS]),
        },
        (rec, t) => attentionForward(rec, t.out, t.lse, t.q, t.k, t.v),
      );
      counts.push(g.pipelines.size);
    }
    expect(counts[2]).toBe(counts[0]);
  });
});

function roundToF32(a: Float64Array): Float64Array {
  return Float64Array.from(Float32Array.from(a));
}

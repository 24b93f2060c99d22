// Embedding: out[b,t,:] = wte[ids[b,t]] (+ wpe[pos0 + t]); backward scatters dout into dwte rows
// (deterministically, grouped by token) and sums it over the batch into dwpe.
import { describe, expect, it } from 'vitest';
import { gradcheck } from '../helpers/gradcheck.ts';
import { expectClose, expectGradcheck, input, randF32, randInts, runOp, TOL, useGpu, zeros } from '../helpers/op-test.ts';
import * as ref from '../../src/lib/ops/embedding/reference.ts';
import {
  createTokenBuckets,
  destroyTokenBuckets,
  embeddingBackward,
  embeddingForward,
  tokenBuckets,
  writeTokenBuckets,
} from '../../src/lib/ops/embedding/embedding.ts';
import { readTensors, Recorder, uploadTensor } from '../../src/lib/gpu/index.ts';

const gpu = useGpu();

// (B, T, C, V): a vocabulary smaller than B·T repeats tokens; C = 300 is not a multiple of the
// 64-wide workgroup.
const SHAPES: [number, number, number, number][] = [
  [1, 1, 1, 1],
  [2, 5, 7, 3],
  [3, 17, 300, 50],
  [4, 64, 48, 1000],
];

describe('embedding reference', () => {
  it('gradients match central differences (token and position tables)', () => {
    const [B, T, C, V] = [2, 3, 4, 5];
    const ids = Int32Array.from([0, 4, 0, 2, 2, 1]);
    const wte = randF32(V * C, 1);
    const wpe = randF32((T + 2) * C, 2);
    const r = gradcheck(
      ([e, p]) => ref.forward(ids, e, p, B, T, C, 2).out,
      (dout) => {
        const g = ref.backward(dout, ref.forward(ids, wte, wpe, B, T, C, 2).cache);
        return [g.dwte, g.dwpe];
      },
      [wte, wpe],
    );
    expectGradcheck(r);
  });

  it('tokenBuckets groups positions by token, tokens and positions ascending', () => {
    const b = tokenBuckets([5, 2, 5, 0, 2, 5]);
    expect(Array.from(b.bucketIds)).toEqual([0, 2, 5]);
    expect(Array.from(b.starts)).toEqual([0, 1, 3, 6]);
    expect(Array.from(b.positions)).toEqual([3, 1, 4, 0, 2, 5]);
  });
});

describe('embedding on the GPU', () => {
  it.each(SHAPES)('forward with positions matches the reference at B=%i T=%i C=%i V=%i', async (B, T, C, V) => {
    const ids = randInts(B * T, V, 10);
    const wte = randF32(V * C, 11);
    const wpe = randF32((T + 3) * C, 12);
    for (const withPos of [false, true]) {
      const got = await runOp(
        gpu(),
        { out: zeros([B, T, C]), ids: input(ids, [B, T], 'i32'), wte: input(wte, [V, C]), wpe: input(wpe, [T + 3, C]) },
        (rec, t) => embeddingForward(rec, t.out, t.ids, t.wte, withPos ? { wpe: t.wpe, pos0: 3 } : {}),
      );
      expectClose(got.out, ref.forward(ids, wte, withPos ? wpe : null, B, T, C, 3).out, TOL.elementwise, `out (positions: ${withPos})`);
    }
  });

  it.each(SHAPES)('backward matches the reference at B=%i T=%i C=%i V=%i', async (B, T, C, V) => {
    const ids = randInts(B * T, V, 20);
    const dout = randF32(B * T * C, 21);
    const bk = tokenBuckets(ids);
    const dwte0 = randF32(V * C, 22); // garbage that must be overwritten
    const got = await runOp(
      gpu(),
      {
        dwte: input(dwte0, [V, C]),
        dwpe: input(randF32(T * C, 23), [T, C]),
        dout: input(dout, [B, T, C]),
        bucketIds: input(bk.bucketIds, [bk.bucketIds.length], 'i32'),
        starts: input(bk.starts, [bk.starts.length], 'i32'),
        positions: input(bk.positions, [bk.positions.length], 'i32'),
      },
      (rec, t) =>
        embeddingBackward(rec, { dwte: t.dwte, dwpe: t.dwpe }, t.dout, {
          B,
          T,
          buckets: { bucketIds: t.bucketIds, starts: t.starts, positions: t.positions, count: bk.bucketIds.length },
        }),
    );
    const g = ref.backward(dout, ref.forward(ids, new Float64Array(V * C), new Float64Array(T * C), B, T, C).cache);
    expectClose(got.dwte, g.dwte, TOL.reduction, 'dwte');
    expectClose(got.dwpe, g.dwpe!, TOL.reduction, 'dwpe');
  });

  it('accumulates into existing gradients, with buckets uploaded by writeTokenBuckets', async () => {
    const g = gpu();
    const [B, T, C, V, pos0] = [3, 10, 20, 7, 4];
    const ids = randInts(B * T, V, 30);
    const dout = randF32(B * T * C, 31);
    const dwte0 = randF32(V * C, 32);
    const dwpe0 = randF32((pos0 + T) * C, 33);
    const buckets = createTokenBuckets(g, 64);
    writeTokenBuckets(g, buckets, ids);
    const t = {
      dwte: uploadTensor(g, dwte0, [V, C]),
      dwpe: uploadTensor(g, dwpe0, [pos0 + T, C]),
      dout: uploadTensor(g, dout, [B, T, C]),
    };
    const rec = new Recorder(g);
    embeddingBackward(rec, { dwte: t.dwte, dwpe: t.dwpe }, t.dout, { buckets, B, T, pos0, accumulate: true });
    rec.submit();
    const [dwte, dwpe] = await readTensors(g, [t.dwte, t.dwpe]);
    const want = ref.backward(dout, ref.forward(ids, dwte0, dwpe0, B, T, C, pos0).cache);
    expectClose(dwte, dwte0.map((x, i) => x + want.dwte[i]), TOL.reduction, 'dwte');
    expectClose(dwpe, dwpe0.map((x, i) => x + want.dwpe![i]), TOL.reduction, 'dwpe');
    destroyTokenBuckets(buckets);
    Object.values(t).forEach((x) => x.buffer.destroy());
  });
});

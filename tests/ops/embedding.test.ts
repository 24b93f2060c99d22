// Embedding: out[n] = wte[ids[n]] (+ wpe[positions[n] + offset]) from tables stored in row chunks;
// gatherRows / scatterAddRows for the classifier's counted rows; the backward scatters dout into the
// rows each position read, grouped by row on the CPU (deterministic, no atomics).
import { describe, expect, it } from 'vitest';
import { expectClose, expectReferenceGradients, input, randF32, randInts, runOp, TOL, useGpu, zeros, type HostTensor } from '../helpers/op-test.ts';
import * as ref from '../../src/lib/ops/embedding/reference.ts';
import { embeddingBackward, embeddingForward, gatherRows, groupRows, scatterAddRows } from '../../src/lib/ops/embedding/embedding.ts';
import type { DType, Tensor } from '../../src/lib/gpu/index.ts';
import { roundToF16 } from '../../src/lib/model/safetensors-dtypes.ts';
import type { RowChunks } from '../../src/lib/model/bindings.ts';

const gpu = useGpu();

/**
 * A (rows,C) table as host tensors `${name}0`, `${name}1`, ... of the row counts in `split`, and its
 * gradient chunks `d${name}0`, ... (holding `grad0`); chunks() builds the RowChunks from the uploads.
 */
function chunked(name: string, table: Float64Array, grad0: Float64Array, C: number, split: number[], dtype: DType = 'f32') {
  const host: Record<string, HostTensor> = {};
  const layout: { key: string; rowStart: number; rows: number }[] = [];
  let rowStart = 0;
  split.forEach((rows, i) => {
    host[`${name}${i}`] = input(table.subarray(rowStart * C, (rowStart + rows) * C), [rows, C], dtype);
    host[`d${name}${i}`] = input(grad0.subarray(rowStart * C, (rowStart + rows) * C), [rows, C]);
    layout.push({ key: `${name}${i}`, rowStart, rows });
    rowStart += rows;
  });
  return {
    host,
    chunks: (t: Record<string, Tensor>): RowChunks => ({
      chunks: layout.map((l) => ({ tensor: t[l.key], rowStart: l.rowStart, rows: l.rows })),
      grads: layout.map((l) => t[`d${l.key}`]),
    }),
    /** the gradient chunks read back, concatenated */
    grads: (got: Record<string, Float64Array>) => Float64Array.from(layout.flatMap((l) => Array.from(got[`d${l.key}`]))),
  };
}

// (N, C, V, wte chunks, wpe chunks, offset): a vocabulary smaller than N repeats ids; C = 300 is not
// a multiple of the 64-wide backward workgroup; several chunks as for tables over one binding.
const CASES: [number, number, number, number[], number[], number][] = [
  [1, 1, 1, [1], [1], 0],
  [10, 7, 3, [3], [12], 2],
  [51, 300, 50, [17, 23, 10], [20, 40], 5],
  [256, 48, 1000, [500, 500], [300], 3],
];

describe('embedding reference', () => {
  it('gradients match central differences (token and position tables, offset)', () => {
    const [C, V] = [4, 5];
    const ids = Int32Array.from([0, 4, 0, 2, 2, 1]);
    const positions = Int32Array.from([0, 1, 2, 0, 1, 2]);
    expectReferenceGradients(
      ([wte, wpe]) => ref.forward(ids, wte, { positions, wpe, offset: 2 }, C),
      (dout, cache) => {
        const g = ref.backward(dout, cache);
        return [g.dwte, g.dwpe];
      },
      [randF32(V * C, 1), randF32(5 * C, 2)],
    );
  });

  it('groupRows groups positions by row, rows and positions ascending, offset added', () => {
    const g = groupRows([5, 2, 5, 0, 2, 5], 10);
    expect(Array.from(g.rows)).toEqual([10, 12, 15]);
    expect(Array.from(g.starts)).toEqual([0, 1, 3, 6]);
    expect(Array.from(g.order)).toEqual([3, 1, 4, 0, 2, 5]);
  });
});

describe('embedding on the GPU', () => {
  it.each(CASES)('forward matches the reference: N=%i C=%i V=%i, wte chunks %j, wpe chunks %j, offset %i', async (N, C, V, wteSplit, wpeSplit, offset) => {
    const P = wpeSplit.reduce((a, b) => a + b, 0);
    const ids = randInts(N, V, 10);
    const positions = randInts(N, P - offset, 11);
    const [wteData, wpeData] = [randF32(V * C, 12), randF32(P * C, 13)];
    const wte = chunked('wte', wteData, new Float64Array(V * C), C, wteSplit);
    const wpe = chunked('wpe', wpeData, new Float64Array(P * C), C, wpeSplit);
    for (const learned of [false, true]) {
      const got = await runOp(
        gpu(),
        { out: input(randF32(N * C, 14), [N, C]), ids: input(ids, [N], 'i32'), positions: input(positions, [N], 'i32'), ...wte.host, ...wpe.host },
        (rec, t) => embeddingForward(rec, t.out, t.ids, t.positions, wte.chunks(t), learned ? wpe.chunks(t) : null, offset),
      );
      const want = ref.forward(ids, wteData, learned ? { positions, wpe: wpeData, offset } : null, C).out;
      expectClose(got.out, want, TOL.elementwise, `out (learned positions: ${learned})`);
    }
  });

  // Frozen tables stored as packed f16 (chunks of odd element counts end mid-word): the lookup decodes
  // exactly what the upload rounded, so it matches the reference on the f16-rounded tables.
  it.each(CASES)('forward from f16 tables matches the reference on the rounded values: N=%i C=%i V=%i, wte chunks %j, wpe chunks %j, offset %i', async (N, C, V, wteSplit, wpeSplit, offset) => {
    const P = wpeSplit.reduce((a, b) => a + b, 0);
    const ids = randInts(N, V, 30);
    const positions = randInts(N, P - offset, 31);
    const [wteData, wpeData] = [randF32(V * C, 32), randF32(P * C, 33)];
    const f16 = (x: Float64Array) => Float64Array.from(roundToF16(Float32Array.from(x)));
    const wte = chunked('wte', wteData, new Float64Array(V * C), C, wteSplit, 'f16');
    const wpe = chunked('wpe', wpeData, new Float64Array(P * C), C, wpeSplit, 'f16');
    for (const learned of [false, true]) {
      const got = await runOp(
        gpu(),
        { out: input(randF32(N * C, 34), [N, C]), ids: input(ids, [N], 'i32'), positions: input(positions, [N], 'i32'), ...wte.host, ...wpe.host },
        (rec, t) => embeddingForward(rec, t.out, t.ids, t.positions, wte.chunks(t), learned ? wpe.chunks(t) : null, offset),
      );
      const want = ref.forward(ids, f16(wteData), learned ? { positions, wpe: f16(wpeData), offset } : null, C).out;
      if (learned) expectClose(got.out, want, TOL.elementwise, 'out (learned positions)');
      else expect(Array.from(got.out)).toEqual(Array.from(want)); // a copy of f16 values: exact
    }
  });

  it.each(CASES)('backward adds into the gradient chunks: N=%i C=%i V=%i, wte chunks %j, wpe chunks %j, offset %i', async (N, C, V, wteSplit, wpeSplit, offset) => {
    const P = wpeSplit.reduce((a, b) => a + b, 0);
    const ids = randInts(N, V, 20);
    const positions = randInts(N, P - offset, 21);
    const dout = randF32(N * C, 22);
    // gradients already holding another micro-batch's contribution
    const [dwte0, dwpe0] = [randF32(V * C, 23), randF32(P * C, 24)];
    const wte = chunked('wte', new Float64Array(V * C), dwte0, C, wteSplit);
    const wpe = chunked('wpe', new Float64Array(P * C), dwpe0, C, wpeSplit);
    const owned: Tensor[] = [];
    const got = await runOp(gpu(), { dout: input(dout, [N, C]), ...wte.host, ...wpe.host }, (rec, t) => {
      embeddingBackward(rec, wte.chunks(t), t.dout, groupRows(ids), owned);
      embeddingBackward(rec, wpe.chunks(t), t.dout, groupRows(positions, offset), owned);
    });
    owned.forEach((x) => x.buffer.destroy());
    const g = ref.backward(dout, ref.forward(ids, new Float64Array(V * C), { positions, wpe: new Float64Array(P * C), offset }, C).cache);
    expectClose(wte.grads(got), g.dwte.map((d, i) => d + dwte0[i]), TOL.reduction, 'dwte');
    expectClose(wpe.grads(got), g.dwpe!.map((d, i) => d + dwpe0[i]), TOL.reduction, 'dwpe');
  });

  it.each([
    [1, 1, 1],
    [37, 130, 100],
    [300, 64, 300],
  ])('gatherRows picks M=%i rows of width C=%i out of %i, scatterAddRows adds them back', async (M, C, R) => {
    // distinct ascending row indices, as the classifier's counted positions are
    const keys = randF32(R, 30);
    const idx = Int32Array.from(Array.from({ length: R }, (_, i) => i).sort((a, b) => keys[a] - keys[b]).slice(0, M)).sort();
    const table = randF32(R * C, 31);
    const src = randF32(M * C, 32);
    const iota = Uint32Array.from({ length: M + 1 }, (_, i) => i);
    const got = await runOp(
      gpu(),
      { rows: zeros([M, C]), sum: input(table, [R, C]), table: input(table, [R, C]), src: input(src, [M, C]), idx: input(idx, [M], 'i32'), iota: input(iota, [M + 1], 'u32') },
      (rec, t) => {
        gatherRows(rec, t.rows, t.idx, t.table);
        scatterAddRows(rec, t.sum, t.src, t.idx, t.iota);
      },
    );
    expectClose(got.rows, ref.forward(idx, table, null, C).out, TOL.elementwise, 'gathered rows');
    const dtable = ref.backward(src, ref.forward(idx, table, null, C).cache).dwte;
    expectClose(got.sum, table.map((x, i) => x + dtable[i]), TOL.elementwise, 'scattered rows');
  });
});

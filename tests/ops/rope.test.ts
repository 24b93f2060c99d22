// RoPE (Llama/Qwen2, rotate-half convention): pairs (i, i+HS/2) of every head turn by p·theta^(-2i/HS);
// the backward pass turns the gradient back.
import { describe, expect, it } from 'vitest';
import { expectClose, expectReferenceGradients, input, randF32, randn, runOp, TOL, useGpu, zeros } from '../helpers/op-test.ts';
import * as ref from '../../src/lib/ops/rope/reference.ts';
import { ropeBackward, ropeForward, ropePositions, ropeTable } from '../../src/lib/ops/rope/rope.ts';

const gpu = useGpu();

describe('rope reference (float64)', () => {
  it.each([
    [2, 3, 2, 8, 10000, 0],
    [1, 4, 3, 6, 100000, 5],
  ])('gradients match central differences: B=%i T=%i NH=%i HS=%i theta=%d offset=%i', (B, T, NH, HS, theta, offset) => {
    const positions = Int32Array.from({ length: B * T }, (_, i) => (i % T) * 2 + 1);
    expectReferenceGradients(
      ([inp]) => ref.forward(inp, positions, B, T, NH, HS, theta, offset),
      (dout, cache) => [ref.backward(dout, cache).dinp],
      [randn(B * T * NH * HS, 1)],
      { maxError: 1e-7 },
    );
  });

  it('follows rotate_half: pairs (i, i+HS/2) rotate by p·theta^(-2i/HS), position 0 is the identity', () => {
    const inp = Float64Array.of(1, 2, 3, 4, 1, 2, 3, 4); // (1,2,1,4): the same vector at two positions
    const { out } = ref.forward(inp, Int32Array.of(0, 3), 1, 2, 1, 4, 100, 0);
    expect(Array.from(out.subarray(0, 4))).toEqual([1, 2, 3, 4]);
    // pair (x0, x2) = (1, 3) turns by 3 rad; pair (x1, x3) = (2, 4) by 3·100^(-1/2) = 0.3 rad.
    const rot = (a: number, b: number, t: number) => [a * Math.cos(t) - b * Math.sin(t), b * Math.cos(t) + a * Math.sin(t)];
    const [o0, o2] = rot(1, 3, 3);
    const [o1, o3] = rot(2, 4, 0.3);
    [o0, o1, o2, o3].forEach((e, i) => expect(out[4 + i]).toBeCloseTo(e, 12));
  });

  it('an offset of P is the same as positions shifted by P (prefix tuning)', () => {
    const inp = randn(2 * 3 * 4, 9);
    const a = ref.forward(inp, Int32Array.of(0, 1, 2), 1, 3, 2, 4, 10000, 7).out;
    const b = ref.forward(inp, Int32Array.of(7, 8, 9), 1, 3, 2, 4, 10000, 0).out;
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

describe('ropeTable', () => {
  it('holds cos and sin of p·theta^(-2i/HS) rounded to float32 (default: exact angles)', () => {
    const [n, HS, theta] = [2048, 64, 10000];
    const table = ropeTable(n, HS, theta);
    expect(table.length).toBe(n * (HS / 2) * 2);
    let worst = 0;
    for (let p = 0; p < n; p += 7) {
      for (let i = 0; i < HS / 2; i++) {
        const a = p * Math.pow(theta, (-2 * i) / HS);
        worst = Math.max(worst, Math.abs(table[(p * 32 + i) * 2] - Math.cos(a)), Math.abs(table[(p * 32 + i) * 2 + 1] - Math.sin(a)));
      }
    }
    expect(worst).toBeLessThanOrEqual(2 ** -24); // half a float32 ulp of numbers below 1
  });

  it("angles: 'float32' rounds as transformers does (inv_freq, then inv_freq·p) before cos and sin", () => {
    const fr = Math.fround;
    const [HS, theta, p, i] = [64, 10000, 1999, 5];
    const invFreq = fr(1 / fr(theta ** fr((2 * i) / HS)));
    const angle = fr(invFreq * p);
    const table = ropeTable(p + 1, HS, theta, { angles: 'float32' });
    expect(table[(p * 32 + i) * 2]).toBe(fr(Math.cos(angle)));
    expect(table[(p * 32 + i) * 2 + 1]).toBe(fr(Math.sin(angle)));
    expect(angle).not.toBe(p * theta ** ((-2 * i) / HS)); // the rounding is real at this position
    // and stays within three float32 roundings of the exact angle
    expect(Math.abs(angle - p * theta ** ((-2 * i) / HS))).toBeLessThan(3 * angle * 2 ** -24);
  });
});

/** The forward's tensors: out zeroed; inp (B,T,NH,HS), positions (B,T) and a ropeTable() uploaded. */
function forwardTensors(x: Float64Array, positions: Int32Array, shape: number[], table: Float32Array) {
  const [B, T, , HS] = shape;
  return {
    out: zeros(shape),
    inp: input(x, shape),
    positions: input(positions, [B, T], 'i32'),
    table: input(table, [table.length / HS, HS / 2, 2]),
  };
}

describe('rope on the GPU', () => {
  // q with NH heads and k with NKV=1 head; HS = 2 (one pair), 6, 64; B·T·NH·HS/2 not a multiple of 256
  const SHAPES: [number, number, number, number][] = [
    [1, 1, 1, 2],
    [2, 5, 3, 6],
    [2, 7, 1, 64],
    [3, 9, 4, 64],
  ];
  const THETA = 10000;

  it.each(SHAPES)('forward matches the reference at B=%i T=%i NH=%i HS=%i, offset 5', async (B, T, NH, HS) => {
    const shape = [B, T, NH, HS];
    const x = randF32(B * T * NH * HS, 10);
    const positions = ropePositions(B, T, 2);
    positions[positions.length - 1] = 0; // a packed sequence restarting its positions
    const got = await runOp(gpu(), forwardTensors(x, positions, shape, ropeTable(64, HS, THETA)), (rec, t) =>
      ropeForward(rec, t.out, t.inp, t.positions, t.table, { offset: 5 }),
    );
    expectClose(got.out, ref.forward(x, positions, B, T, NH, HS, THETA, 5).out, TOL.elementwise, 'rope out');
  });

  it.each(SHAPES)('backward accumulates the inverse rotation at B=%i T=%i NH=%i HS=%i', async (B, T, NH, HS) => {
    const shape = [B, T, NH, HS];
    const dout = randF32(B * T * NH * HS, 20);
    const dinp0 = randF32(B * T * NH * HS, 21);
    const positions = ropePositions(B, T, 3);
    const got = await runOp(
      gpu(),
      {
        dinp: input(dinp0, shape),
        dout: input(dout, shape),
        positions: input(positions, [B, T], 'i32'),
        table: input(ropeTable(64, HS, THETA), [64, HS / 2, 2]),
      },
      (rec, t) => ropeBackward(rec, t.dinp, t.dout, t.positions, t.table, { offset: 4 }),
    );
    const g = ref.backward(dout, ref.forward(dout, positions, B, T, NH, HS, THETA, 4).cache).dinp;
    expectClose(got.dinp, g.map((d, i) => d + dinp0[i]), TOL.elementwise, 'rope dinp');
  });

  it('backward with accumulate: false undoes the forward rotation', async () => {
    const [B, T, NH, HS] = [2, 6, 2, 16];
    const shape = [B, T, NH, HS];
    const x = randF32(B * T * NH * HS, 30);
    const got = await runOp(
      gpu(),
      {
        rotated: zeros(shape),
        back: input(randF32(B * T * NH * HS, 31), shape),
        inp: input(x, shape),
        positions: input(ropePositions(B, T), [B, T], 'i32'),
        table: input(ropeTable(T, HS, 500000), [T, HS / 2, 2]),
      },
      (rec, t) => {
        ropeForward(rec, t.rotated, t.inp, t.positions, t.table);
        ropeBackward(rec, t.back, t.rotated, t.positions, t.table, { accumulate: false });
      },
    );
    expectClose(got.back, x, TOL.elementwise, 'rope round trip');
  });

  it('matches the reference at positions up to 2047', async () => {
    const [B, T, NH, HS, theta] = [1, 33, 2, 64, 10000];
    const shape = [B, T, NH, HS];
    const x = randF32(B * T * NH * HS, 40);
    const positions = Int32Array.from({ length: T }, (_, t) => 2047 - t * 61);
    const got = await runOp(gpu(), forwardTensors(x, positions, shape, ropeTable(2048, HS, theta)), (rec, t) =>
      ropeForward(rec, t.out, t.inp, t.positions, t.table),
    );
    expectClose(got.out, ref.forward(x, positions, B, T, NH, HS, theta).out, TOL.elementwise, 'rope far');
  });

  it('writes NaN for a position outside the table instead of wrapping around', async () => {
    const [B, T, NH, HS] = [1, 3, 1, 4];
    const tensors = forwardTensors(randF32(12, 50), Int32Array.of(0, 7, 8), [B, T, NH, HS], ropeTable(8, HS, 10000));
    const got = await runOp(gpu(), tensors, (rec, t) => ropeForward(rec, t.out, t.inp, t.positions, t.table));
    expect(got.out.subarray(0, 8).every(Number.isFinite)).toBe(true);
    expect(got.out.subarray(8).every(Number.isNaN)).toBe(true);
  });
});

// SwiGLU (Llama MLP): out = silu(gate)·up; backward to gate and up.
import { describe, expect, it } from 'vitest';
import { expectClose, expectReferenceGradients, input, randF32, roundF32, runOp, TOL, useGpu, zeros } from '../helpers/op-test.ts';
import * as ref from '../../src/lib/ops/swiglu/reference.ts';
import { swigluBackward, swigluForward } from '../../src/lib/ops/swiglu/swiglu.ts';

const gpu = useGpu();

// N = B·T·I: 1, 257 (just past a 256-wide workgroup), 3·5·7, and 2·9·1536 (SmolLM2-135M's I)
const SIZES = [1, 257, 105, 2 * 9 * 1536];

/** seeded gates of scale 3, with the extremes where exp over/underflows in float32 at the front */
function gates(n: number, seed: number): Float64Array {
  const g = randF32(n, seed, 3);
  g.set(roundF32([-100, 100, -88.5, 88.5, 0]).subarray(0, Math.min(5, n)));
  return g;
}

describe('swiglu reference (float64)', () => {
  it('gradients match central differences for gate and up', () => {
    expectReferenceGradients(
      ([gate, up]) => ref.forward(gate, up),
      (dout, cache) => {
        const g = ref.backward(dout, cache);
        return [g.dgate, g.dup];
      },
      [randF32(37, 1, 3), randF32(37, 2)],
      { maxError: 1e-7 },
    );
  });

  it('is silu(gate)·up', () => {
    const { out } = ref.forward(Float64Array.of(0, 2, -30), Float64Array.of(5, 3, 1));
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo((2 / (1 + Math.exp(-2))) * 3, 14);
    expect(Math.abs(out[2])).toBeLessThan(1e-11);
  });
});

describe('swiglu on the GPU', () => {
  it.each(SIZES)('forward matches the reference for N=%i, extremes included', async (n) => {
    const g = gates(n, 10);
    const u = randF32(n, 11);
    const got = await runOp(gpu(), { out: zeros([n]), gate: input(g, [n]), up: input(u, [n]) }, (rec, t) =>
      swigluForward(rec, t.out, t.gate, t.up),
    );
    expectClose(got.out, ref.forward(g, u).out, TOL.elementwise, 'swiglu out');
  });

  it.each(SIZES)('backward accumulates dgate and dup for N=%i', async (n) => {
    const g = gates(n, 20);
    const u = randF32(n, 21);
    const dout = randF32(n, 22);
    const dgate0 = randF32(n, 23);
    const dup0 = randF32(n, 24);
    const got = await runOp(
      gpu(),
      { dgate: input(dgate0, [n]), dup: input(dup0, [n]), dout: input(dout, [n]), gate: input(g, [n]), up: input(u, [n]) },
      (rec, t) => swigluBackward(rec, t.dgate, t.dup, t.dout, t.gate, t.up),
    );
    const want = ref.backward(dout, ref.forward(g, u).cache);
    expectClose(got.dgate, want.dgate.map((d, i) => d + dgate0[i]), TOL.elementwise, 'swiglu dgate');
    expectClose(got.dup, want.dup.map((d, i) => d + dup0[i]), TOL.elementwise, 'swiglu dup');
  });

  it('backward with accumulate: false overwrites', async () => {
    const n = 300;
    const g = gates(n, 30);
    const u = randF32(n, 31);
    const dout = randF32(n, 32);
    const got = await runOp(
      gpu(),
      {
        dgate: input(randF32(n, 33), [n]),
        dup: input(randF32(n, 34), [n]),
        dout: input(dout, [n]),
        gate: input(g, [n]),
        up: input(u, [n]),
      },
      (rec, t) => swigluBackward(rec, t.dgate, t.dup, t.dout, t.gate, t.up, { accumulate: false }),
    );
    const want = ref.backward(dout, ref.forward(g, u).cache);
    expectClose(got.dgate, want.dgate, TOL.elementwise, 'swiglu dgate');
    expectClose(got.dup, want.dup, TOL.elementwise, 'swiglu dup');
  });
});

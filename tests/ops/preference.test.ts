// Preference losses over pairs (DPO sigmoid, ipo, robust; SimPO; ORPO) from per-row sums of −log p:
// the float64 reference against TRL's formulas and central differences, and the kernels against the
// reference, padding pairs included.
import { describe, expect, it } from 'vitest';
import { expectClose, expectReferenceGradients, input, randF32, runOp, TOL, useGpu, zeros } from '../helpers/op-test.ts';
import { createRng } from '../../src/lib/random.ts';
import * as ref from '../../src/lib/ops/preference/reference.ts';
import { PREFERENCE_KINDS, PREFERENCE_STATS as STATS, preferenceBackward, preferenceForward, type PreferenceSettings } from '../../src/lib/ops/preference/preference.ts';

const gpu = useGpu();

const SETTINGS: Record<(typeof PREFERENCE_KINDS)[number], PreferenceSettings> = {
  sigmoid: { kind: 'sigmoid', beta: 0.1, gamma: 0, smoothing: 0 },
  ipo: { kind: 'ipo', beta: 0.1, gamma: 0, smoothing: 0 },
  robust: { kind: 'robust', beta: 0.1, gamma: 0, smoothing: 0.2 },
  simpo: { kind: 'simpo', beta: 2, gamma: 0.5, smoothing: 0 },
  orpo: { kind: 'orpo', beta: 0.1, gamma: 0, smoothing: 0 },
  reward: { kind: 'reward', beta: 1, gamma: 0.3, smoothing: 0 },
};

/**
 * P pairs as a run sees them: completions of 1..30 tokens at 0.5..4 nats each (float32), reference
 * log-probs near the policy's, and the pairs in `padding` with no counted token (an evaluation
 * batch's filler).
 */
function pairs(P: number, seed: number, padding: number[] = []) {
  const rand = createRng(seed);
  const counts = new Float64Array(2 * P);
  const sums = new Float64Array(2 * P);
  const reference = new Float64Array(2 * P);
  for (let i = 0; i < 2 * P; i++) {
    if (padding.includes(i >> 1)) continue;
    counts[i] = 1 + Math.floor(rand() * 30);
    sums[i] = Math.fround(counts[i] * (0.5 + 3.5 * rand()));
    reference[i] = Math.fround(-sums[i] + (rand() - 0.5) * 8);
  }
  return { sums, counts, reference };
}

const softplus = (x: number) => Math.log1p(Math.exp(x));
const logsigmoid = (x: number) => -softplus(-x);

describe('preference reference (float64)', () => {
  it.each(PREFERENCE_KINDS)('%s: gradients of the mean loss match central differences (a padding pair included)', (kind) => {
    const { sums, counts, reference } = pairs(5, 1, [2]);
    const s = SETTINGS[kind];
    const r = expectReferenceGradients(
      ([x]) => ref.forward(x, counts, reference, s),
      (dout, cache) => [ref.backward(dout, cache).dsums],
      [sums],
      { maxError: 1e-7 },
    );
    expect(r.checked).toBe(10);
  });

  it('matches TRL\'s formulas for one pair of each kind', () => {
    // chosen: 4 tokens, log π = −3, reference −5; rejected: 6 tokens, log π = −9, reference −7
    const sums = Float64Array.of(3, 9);
    const counts = Float64Array.of(4, 6);
    const reference = Float64Array.of(-5, -7);
    const loss = (kind: keyof typeof SETTINGS, over: Partial<PreferenceSettings> = {}) =>
      ref.forward(sums, counts, reference, { ...SETTINGS[kind], ...over }).stats;
    const d = -3 - -5 - (-9 - -7); // chosen log-ratio 2 minus rejected −2
    expect(loss('sigmoid')[STATS.loss]).toBeCloseTo(-logsigmoid(0.1 * d), 14);
    const e = 0.2;
    expect(loss('robust')[STATS.loss]).toBeCloseTo((-(1 - e) * logsigmoid(0.1 * d) + e * logsigmoid(-0.1 * d)) / (1 - 2 * e), 14);
    expect(loss('ipo')[STATS.loss]).toBeCloseTo((2 / 4 - -2 / 6 - 1 / (2 * 0.1)) ** 2, 12);
    expect(loss('simpo')[STATS.loss]).toBeCloseTo(-logsigmoid(2 * (-3 / 4 - -9 / 6) - 0.5), 14);
    const [ac, ar] = [-3 / 4, -9 / 6];
    const logOdds = ac - ar - (Math.log(1 - Math.exp(ac)) - Math.log(1 - Math.exp(ar)));
    expect(loss('orpo')[STATS.loss]).toBeCloseTo(3 / 4 - 0.1 * logsigmoid(logOdds), 14);
    // TRL's metrics: β·Δ for DPO (sums), β·log π / n for SimPO and ORPO
    const dpo = loss('sigmoid');
    expect([dpo[STATS.rewardsChosen], dpo[STATS.rewardsRejected], dpo[STATS.margins], dpo[STATS.accuracies]]).toEqual([0.1 * 2, 0.1 * -2, 0.1 * 4, 1]);
    expect([dpo[STATS.logpsChosen], dpo[STATS.logpsRejected], dpo[STATS.nll], dpo[STATS.pairs], dpo[STATS.chosenTokens]]).toEqual([-3, -9, 3 / 4, 1, 4]);
    // the reward model: sums are the rewards 3 and 9; TRL RewardTrainer's −log σ(r⁺ − r⁻ − margin)
    const reward = loss('reward');
    expect(reward[STATS.loss]).toBeCloseTo(-logsigmoid(3 - 9 - 0.3), 14);
    expect([reward[STATS.rewardsChosen], reward[STATS.rewardsRejected], reward[STATS.margins], reward[STATS.accuracies]]).toEqual([3, 9, -6, 0]);
    const simpo = loss('simpo');
    expect([simpo[STATS.rewardsChosen], simpo[STATS.logpsChosen]]).toEqual([2 * ac, ac]);
  });

  it('a batch with no pair that counts gives zeros, not NaN', () => {
    const r = ref.forward(Float64Array.of(0, 0), Float64Array.of(0, 0), Float64Array.of(0, 0), SETTINGS.orpo);
    expect(Array.from(r.stats)).toEqual(new Array(ref.STATS_SIZE).fill(0));
    expect(Array.from(ref.backward(Float64Array.of(1), r.cache).dsums)).toEqual([0, 0]);
  });
});

describe('preference loss on the GPU', () => {
  // one pair; fewer pairs than a workgroup with padding; more pairs than the workgroup (64) holds
  const CASES: [number, number[]][] = [
    [1, []],
    [7, [3, 6]],
    [150, [0, 149]],
  ];

  for (const kind of PREFERENCE_KINDS) {
    it.each(CASES)(`${kind}: stats, grad and dsums match the reference with P=%i pairs`, async (P, padding) => {
      const { sums, counts, reference } = pairs(P, 20 + P, padding);
      const s = SETTINGS[kind];
      const got = await runOp(
        gpu(),
        {
          stats: zeros([ref.STATS_SIZE]),
          grad: zeros([2 * P]),
          dsums: input(new Float64Array(2 * P).fill(9), [2 * P]),
          sums: input(sums, [2 * P]),
          counts: input(counts, [2 * P]),
          reference: input(reference, [2 * P]),
        },
        (rec, t) => {
          preferenceForward(rec, t.stats, t.grad, t.sums, t.counts, t.reference, s);
          preferenceBackward(rec, t.dsums, t.grad, t.counts, t.stats, s, 0.25);
        },
      );
      const want = ref.forward(sums, counts, reference, s);
      expectClose(got.stats, want.stats, TOL.reduction, `${kind} stats`);
      expect(got.stats[STATS.pairs]).toBe(P - padding.length);
      expectClose(got.grad, want.cache.grad, TOL.reduction, `${kind} grad`);
      expectClose(got.dsums, ref.backward(Float64Array.of(0.25), want.cache).dsums, TOL.reduction, `${kind} dsums`);
    });
  }

  it('a policy equal to its reference gives exactly ln 2 and zero rewards, whatever β', async () => {
    // Four pairs whose log π equals the reference's bit for bit: d = 0 exactly, so the loss is
    // softplus(0) and the mean of four equal values is exact.
    const { sums, counts } = pairs(4, 30);
    const reference = sums.map((x) => -x);
    const losses: number[] = [];
    for (const beta of [0.1, 0.5, 3]) {
      const got = await runOp(
        gpu(),
        { stats: zeros([ref.STATS_SIZE]), grad: zeros([8]), sums: input(sums, [8]), counts: input(counts, [8]), reference: input(reference, [8]) },
        (rec, t) => preferenceForward(rec, t.stats, t.grad, t.sums, t.counts, t.reference, { ...SETTINGS.sigmoid, beta }),
      );
      expect([STATS.rewardsChosen, STATS.rewardsRejected, STATS.margins, STATS.accuracies].map((i) => got.stats[i])).toEqual([0, 0, 0, 0]);
      losses.push(got.stats[STATS.loss]);
    }
    expect(losses).toEqual([Math.fround(Math.LN2), Math.fround(Math.LN2), Math.fround(Math.LN2)]);
  });
});

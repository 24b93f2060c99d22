// Preference losses over pairs of sequences, plain loops in float64: DPO (sigmoid, robust, IPO),
// SimPO and ORPO as TRL computes them (src/lib/train/objective.ts has the formulas and what each trades),
// and the reward model's pairwise loss (TRL RewardTrainer), whose `sums` are the rows' scalar rewards
// r (ops/score) rather than sums of −log p: loss = −log σ(r⁺ − r⁻ − γ), rewards/* = r⁺, r⁻.
//
// Inputs, for P pairs (row 2k: pair k's chosen completion, row 2k+1: its rejected one):
//   sums (2P)       Σ of the row's per-token losses −log p over its completion tokens (segmentsum's output),
//                   so the policy's log π(y|x) = −sums
//   counts (2P)     the row's completion tokens n(y)
//   reference (2P)  the reference model's log π(y|x) (DPO only; the others ignore it)
// Outputs: the loss (the mean over pairs, plus ORPO's NLL term), the TRL metrics in `stats`, and the
// gradient of the loss with respect to `sums`. A pair counts only when both rows have a counted token
// (padding pairs of an evaluation batch have none); means are over the pairs that count.
//
// forward keeps, per row, ∂(pair k's loss)/∂sums in `grad` (the crossentropy forward keeps lse the same
// way); backward scales it: dsums = dout · (grad / pairs + [ORPO, chosen row] / chosen tokens).

/** Loss kinds, by the index the kernels read in Params.kind. */
export const PREFERENCE_KINDS = ['sigmoid', 'ipo', 'robust', 'simpo', 'orpo', 'reward'] as const;
export type PreferenceKind = (typeof PREFERENCE_KINDS)[number];

export interface PreferenceSettings {
  kind: PreferenceKind;
  /** β (IPO's τ, ORPO's λ) */
  beta: number;
  /** SimPO's and the reward model's margin γ (0 for the others) */
  gamma: number;
  /** robust DPO's ε (0 for the others) */
  smoothing: number;
}

/** Where each number sits in the (STATS_SIZE) stats tensor. */
export const STATS = {
  loss: 0,
  rewardsChosen: 1,
  rewardsRejected: 2,
  margins: 3,
  accuracies: 4,
  logpsChosen: 5,
  logpsRejected: 6,
  /** the chosen completions' mean cross-entropy per token (ORPO's NLL term) */
  nll: 7,
  /** pairs that count */
  pairs: 8,
  /** their chosen completions' tokens (ORPO's NLL denominator) */
  chosenTokens: 9,
} as const;
export const STATS_SIZE = 10;

/**
 * ORPO's average log-probability is kept below this: −log p summed in float32 can come out a hair
 * below 0 for a near-certain answer, where log(1 − e^x) has no value.
 */
export const ORPO_MAX_LOGP = -1e-6;

const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))); // log(1 + e^x)
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const log1mexp = (x: number) => Math.log(-Math.expm1(x)); // log(1 − e^x), x < 0

export interface PreferenceCache {
  grad: Float64Array; // (2P)
  counts: Float64Array;
  stats: Float64Array;
  kind: PreferenceKind;
}

/** One pair's loss, rewards and log-probs, and ∂loss/∂(log π) of its chosen and rejected rows. */
export function pairTerms(
  s: PreferenceSettings,
  lpc: number,
  lpr: number,
  nc: number,
  nr: number,
  refc: number,
  refr: number,
): { loss: number; rc: number; rr: number; logpc: number; logpr: number; dlpc: number; dlpr: number } {
  const { beta } = s;
  switch (s.kind) {
    case 'sigmoid':
    case 'robust': {
      const dc = lpc - refc;
      const dr = lpr - refr;
      const d = dc - dr;
      let loss: number;
      let dd: number;
      if (s.kind === 'sigmoid') {
        loss = softplus(-beta * d);
        dd = -beta * sigmoid(-beta * d);
      } else {
        const e = s.smoothing;
        loss = ((1 - e) * softplus(-beta * d) - e * softplus(beta * d)) / (1 - 2 * e);
        dd = (-(1 - e) * beta * sigmoid(-beta * d) - e * beta * sigmoid(beta * d)) / (1 - 2 * e);
      }
      return { loss, rc: beta * dc, rr: beta * dr, logpc: lpc, logpr: lpr, dlpc: dd, dlpr: -dd };
    }
    case 'ipo': {
      const dc = lpc - refc;
      const dr = lpr - refr;
      const h = dc / nc - dr / nr - 1 / (2 * beta);
      return { loss: h * h, rc: beta * dc, rr: beta * dr, logpc: lpc, logpr: lpr, dlpc: (2 * h) / nc, dlpr: (-2 * h) / nr };
    }
    case 'simpo': {
      const ac = lpc / nc;
      const ar = lpr / nr;
      const z = beta * (ac - ar) - s.gamma;
      const dz = -sigmoid(-z);
      return { loss: softplus(-z), rc: beta * ac, rr: beta * ar, logpc: ac, logpr: ar, dlpc: (dz * beta) / nc, dlpr: (-dz * beta) / nr };
    }
    case 'orpo': {
      const ac = Math.min(lpc / nc, ORPO_MAX_LOGP);
      const ar = Math.min(lpr / nr, ORPO_MAX_LOGP);
      const lo = ac - ar - (log1mexp(ac) - log1mexp(ar));
      const dlo = -beta * sigmoid(-lo);
      // d lo / d ac = 1/(1 − e^ac), d lo / d ar = −1/(1 − e^ar); clamped averages have no gradient
      const dac = lpc / nc < ORPO_MAX_LOGP ? dlo / -Math.expm1(ac) / nc : 0;
      const dar = lpr / nr < ORPO_MAX_LOGP ? -dlo / -Math.expm1(ar) / nr : 0;
      return { loss: beta * softplus(-lo), rc: beta * ac, rr: beta * ar, logpc: ac, logpr: ar, dlpc: dac, dlpr: dar };
    }
    case 'reward': {
      // sums hold the rewards, so r = −lpc; ∂loss/∂lpc = −∂loss/∂r⁺ = σ(−z)
      const [rc, rr] = [-lpc, -lpr];
      const z = rc - rr - s.gamma;
      const g = sigmoid(-z);
      return { loss: softplus(-z), rc, rr, logpc: rc, logpr: rr, dlpc: g, dlpr: -g };
    }
  }
}

export function forward(
  sums: Float64Array, // (2P)
  counts: Float64Array, // (2P)
  reference: Float64Array, // (2P)
  s: PreferenceSettings,
): { out: Float64Array; stats: Float64Array; cache: PreferenceCache } {
  const P = sums.length / 2;
  const grad = new Float64Array(2 * P);
  const acc = new Float64Array(STATS_SIZE);
  let nllSum = 0;
  for (let k = 0; k < P; k++) {
    const [c, r] = [2 * k, 2 * k + 1];
    if (!(counts[c] > 0 && counts[r] > 0)) continue;
    const t = pairTerms(s, -sums[c], -sums[r], counts[c], counts[r], reference[c], reference[r]);
    acc[STATS.loss] += t.loss;
    acc[STATS.rewardsChosen] += t.rc;
    acc[STATS.rewardsRejected] += t.rr;
    acc[STATS.margins] += t.rc - t.rr;
    acc[STATS.accuracies] += t.rc > t.rr ? 1 : 0;
    acc[STATS.logpsChosen] += t.logpc;
    acc[STATS.logpsRejected] += t.logpr;
    acc[STATS.pairs] += 1;
    acc[STATS.chosenTokens] += counts[c];
    nllSum += sums[c];
    // log π = −sums: the gradient with respect to sums is the negated one
    grad[c] = -t.dlpc;
    grad[r] = -t.dlpr;
  }
  const pairs = acc[STATS.pairs];
  const stats = new Float64Array(STATS_SIZE);
  if (pairs > 0) {
    for (const i of [STATS.loss, STATS.rewardsChosen, STATS.rewardsRejected, STATS.margins, STATS.accuracies, STATS.logpsChosen, STATS.logpsRejected]) {
      stats[i] = acc[i] / pairs;
    }
    stats[STATS.nll] = nllSum / acc[STATS.chosenTokens];
    if (s.kind === 'orpo') stats[STATS.loss] += stats[STATS.nll];
  }
  stats[STATS.pairs] = pairs;
  stats[STATS.chosenTokens] = acc[STATS.chosenTokens];
  return { out: Float64Array.of(stats[STATS.loss]), stats, cache: { grad, counts, stats, kind: s.kind } };
}

/** dsums (2P) from d(loss) = dout[0]: the mean over pairs, and ORPO's NLL on the chosen rows. */
export function backward(dout: Float64Array, cache: PreferenceCache): { dsums: Float64Array } {
  const { grad, counts, stats, kind } = cache;
  const pairs = stats[STATS.pairs];
  const tokens = stats[STATS.chosenTokens];
  const dsums = new Float64Array(grad.length);
  if (pairs === 0) return { dsums };
  for (let i = 0; i < grad.length; i++) {
    const k = i >> 1;
    const real = counts[2 * k] > 0 && counts[2 * k + 1] > 0;
    const nll = kind === 'orpo' && i % 2 === 0 && real ? 1 / tokens : 0;
    dsums[i] = dout[0] * (grad[i] / pairs + nll);
  }
  return { dsums };
}

// The objective: what a run's loss is, next to the method (where the trainable weights sit) and the
// training config (how the steps go). Names are TRL's, so a setting means what it means there:
//
//   sft    masked cross-entropy on the counted tokens (SFTTrainer)                          any data but pairs
//   dpo    DPOConfig: beta, loss_type (sigmoid | ipo | robust), label_smoothing             preference pairs
//   simpo  CPOConfig with loss_type "simpo" and cpo_alpha 0: beta, simpo_gamma              preference pairs
//   orpo   ORPOConfig: beta (the paper's λ)                                                  preference pairs
//   reward RewardTrainer: a reward model (the method + a score head) on pairs, margin        preference pairs
//
// Every preference objective is a function of per-sequence sums of log-probabilities: for the pair's
// chosen completion y⁺ and rejected y⁻ (prompt tokens never count), log π(y|x) = Σ log p over the
// completion's tokens, and n(y) its token count. With Δ(y) = log πθ(y|x) − log πref(y|x):
//
//   dpo sigmoid  −log σ(β·(Δ⁺ − Δ⁻))                     trusts every label; the reference anchors it
//   dpo robust   ((1−ε)·−log σ(β·d) + ε·log σ(−β·d))/(1−2ε), d = Δ⁺ − Δ⁻
//                                                        unbiased when a share ε of labels is flipped,
//                                                        at the price of noisier gradients
//   dpo ipo      (Δ⁺/n⁺ − Δ⁻/n⁻ − 1/(2β))²               a squared loss that stops pushing at a margin
//                                                        of 1/(2β) instead of forever: less overfitting
//                                                        on near-deterministic pairs, slower to separate
//   simpo        −log σ(β·(log π(y⁺)/n⁺ − log π(y⁻)/n⁻) − γ)
//                                                        no reference pass (half the forward work, no
//                                                        anchor to the start) and a length-normalised
//                                                        reward, so long answers are not favoured; it
//                                                        can drift further from the starting model
//   orpo         NLL(y⁺) − λ·log σ(log odds(y⁺) − log odds(y⁻)), odds(y) = p̄/(1−p̄), p̄ = exp(log π(y)/n)
//                                                        SFT and preference in one stage, no reference;
//                                                        the NLL term keeps pulling the chosen answer up
//                                                        (TRL's NLL also counts prompt tokens; here it is
//                                                        the chosen completion's tokens, as the paper has it)
//   reward       −log σ(r(x,y⁺) − r(x,y⁻) − m)          a reward model, not a policy: r is a scalar head
//                                                        ("score", adapters/score.ts) on the last token's
//                                                        final hidden state; the method under it trains too.
//                                                        TRL reads a margin m per pair from a "margin"
//                                                        column; here one margin serves every pair
//
// What TRL logs, under its names, is what a preference run reports (train/preference.ts computes it on
// the GPU): rewards/chosen = mean β·Δ⁺ (SimPO, ORPO: β·log π(y⁺)/n⁺), rewards/rejected likewise,
// rewards/margins = mean of their difference, rewards/accuracies = share of pairs whose chosen reward
// is higher, logps/chosen and logps/rejected = mean log π (per token for SimPO and ORPO), and
// nll_loss = the chosen completions' mean cross-entropy per token. A reward model reports its scores
// as rewards/chosen and rewards/rejected and its pairwise accuracy as rewards/accuracies (TRL's
// RewardTrainer "accuracy"); it has no log-probabilities, so its logps/* repeat the rewards and its
// nll_loss is the mean chosen reward.
//
// Plain data with no imports: the data layer, the page and the worker read it as they are.

export type DpoLossType = 'sigmoid' | 'ipo' | 'robust';

export type ObjectiveConfig =
  | { type: 'sft' }
  | {
      type: 'dpo';
      /** β: how far the policy may move from the reference (higher: less); IPO's τ */
      beta: number;
      loss_type: DpoLossType;
      /** robust DPO's ε, the share of labels assumed flipped, in [0, 0.5); 0 for sigmoid and ipo */
      label_smoothing: number;
    }
  | {
      type: 'simpo';
      /** β: scale of the length-normalised reward */
      beta: number;
      /** γ: the reward margin the chosen answer must win by */
      simpo_gamma: number;
    }
  | {
      type: 'orpo';
      /** λ (TRL's beta): weight of the odds-ratio term against the chosen answer's NLL */
      beta: number;
    }
  | {
      type: 'reward';
      /** m: how far the chosen reward must exceed the rejected one before the loss lets go (0: TRL's loss with no margin column) */
      margin: number;
    };

export type ObjectiveType = ObjectiveConfig['type'];

export const OBJECTIVE_TYPES: readonly ObjectiveType[] = ['sft', 'dpo', 'simpo', 'orpo', 'reward'];
export const DPO_LOSS_TYPES: readonly DpoLossType[] = ['sigmoid', 'ipo', 'robust'];

/** The supervised default every plan, run and request has unless it says otherwise. */
export const SFT: ObjectiveConfig = Object.freeze({ type: 'sft' });

/** Whether the objective trains on preference pairs ({prompt, chosen, rejected}) rather than plain examples. */
export function isPreference(o: ObjectiveConfig | ObjectiveType): boolean {
  return (typeof o === 'string' ? o : o.type) !== 'sft';
}

/** Whether the objective compares with a reference model (DPO), whose log-probabilities a run computes once. */
export function needsReference(o: ObjectiveConfig): boolean {
  return o.type === 'dpo';
}

/** Whether the objective trains a reward model (the method + a score head) rather than a policy. */
export function isReward(o: ObjectiveConfig | ObjectiveType): boolean {
  return (typeof o === 'string' ? o : o.type) === 'reward';
}

/** The metrics a preference run reports per step and per validation, TRL's names, in the GPU stats' order. */
export const PREFERENCE_METRICS = [
  'rewards/chosen',
  'rewards/rejected',
  'rewards/margins',
  'rewards/accuracies',
  'logps/chosen',
  'logps/rejected',
  'nll_loss',
] as const;

export type PreferenceMetric = (typeof PREFERENCE_METRICS)[number];
export type PreferenceMetrics = Record<PreferenceMetric, number>;

/** The objective in words, for messages: "DPO (sigmoid, β 0.1)". */
export function describeObjective(o: ObjectiveConfig): string {
  switch (o.type) {
    case 'sft':
      return 'supervised fine-tuning';
    case 'dpo':
      return `DPO (${o.loss_type}, β ${o.beta}${o.loss_type === 'robust' ? `, ε ${o.label_smoothing}` : ''})`;
    case 'simpo':
      return `SimPO (β ${o.beta}, γ ${o.simpo_gamma})`;
    case 'orpo':
      return `ORPO (λ ${o.beta})`;
    case 'reward':
      return `a reward model${o.margin ? ` (margin ${o.margin})` : ''}`;
  }
}

export function copyObjective(o: ObjectiveConfig): ObjectiveConfig {
  return { ...o };
}

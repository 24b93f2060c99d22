// State of the objective picker: SFT, a preference objective (DPO, SimPO, ORPO), or a reward model (TRL's
// RewardTrainer on the same pairs: the method plus a score head) with TRL's settings
// (train/objective.ts). Each objective keeps its own settings, so switching back and forth loses
// nothing; every value starts at the one defaults object (train/config.ts DEFAULTS.objectives).
//
// It follows the data: a preference file makes a preference objective current (the one used last, DPO
// at first) and other data makes SFT current, since neither can train on the other's data. The user's
// own pick stands until the kind of data changes again.

import { copyObjective, isPreference, type ObjectiveConfig, type ObjectiveType } from '../../lib/train/objective.ts';
import { objectiveProblems } from '../../lib/train/checks.ts';
import { defaultObjective } from '../../lib/train/config.ts';

/** One line per objective: what it is and what it trades (train/objective.ts has the formulas). */
export const OBJECTIVE_CHOICES: readonly { type: PageObjective; label: string; hint: string }[] = [
  { type: 'sft', label: 'SFT', hint: 'Supervised fine-tuning: cross-entropy on the counted tokens. Any data but preference pairs.' },
  {
    type: 'dpo',
    label: 'DPO',
    hint: 'Direct Preference Optimization: raises the chosen answer over the rejected one relative to the starting model, which anchors it (one extra reference pass).',
  },
  {
    type: 'simpo',
    label: 'SimPO',
    hint: 'No reference pass and a per-token reward, so long answers are not favoured; nothing anchors it to the starting model, so it can drift further.',
  },
  {
    type: 'orpo',
    label: 'ORPO',
    hint: 'SFT and preference in one stage, no reference: the chosen answer’s NLL plus λ times an odds-ratio term.',
  },
  {
    type: 'reward',
    label: 'Reward model',
    hint: 'Not a policy: the method plus a score head, trained so the chosen answer scores above the rejected one. RAFT can rank samples with it.',
  },
];

/** The DPO loss types, with what each trades. */
export const LOSS_TYPE_HINTS = {
  sigmoid: 'The DPO paper’s loss: trusts every label.',
  ipo: 'A squared loss that stops at a margin of 1/(2β): less overfitting on easy pairs, slower to separate.',
  robust: 'Unbiased when a share ε of the labels is flipped, at the price of noisier gradients.',
} as const;

/** The objectives the page trains with: every one (the reward model on the same preference pairs). */
export type PageObjective = ObjectiveType;
type PreferenceType = Exclude<PageObjective, 'sft'>;

export class ObjectiveState {
  type = $state<PageObjective>('sft');
  dpo = $state(defaultObjective('dpo'));
  simpo = $state(defaultObjective('simpo'));
  orpo = $state(defaultObjective('orpo'));
  reward = $state(defaultObjective('reward'));
  /** The preference objective picked last: the one preference data brings back. */
  private lastPreference: PreferenceType = 'dpo';
  /** Whether the data seen last was preference pairs (null before any data). */
  private dataIsPairs: boolean | null = null;

  /** The objective as the plan takes it (a plain copy). */
  readonly current = $derived.by((): ObjectiveConfig => {
    switch (this.type) {
      case 'sft':
        return defaultObjective('sft');
      case 'dpo':
        return copyObjective(this.dpo);
      case 'simpo':
        return copyObjective(this.simpo);
      case 'orpo':
        return copyObjective(this.orpo);
      case 'reward':
        return copyObjective(this.reward);
    }
  });

  /** Every problem with the current objective's settings ([] when it can train). */
  readonly problems = $derived(objectiveProblems(this.current));

  get preference(): boolean {
    return isPreference(this.type);
  }

  setType(type: PageObjective): void {
    this.type = type;
    if (type !== 'sft') this.lastPreference = type;
  }

  /**
   * The data changed: pairs want a preference objective, anything else SFT. Only a change of kind moves
   * the pick, so a user's choice among DPO, SimPO and ORPO (or a deliberate mismatch) stays.
   */
  followData(pairs: boolean | null): void {
    if (pairs === null || pairs === this.dataIsPairs) return;
    this.dataIsPairs = pairs;
    if (pairs && !this.preference) this.type = this.lastPreference;
    if (!pairs && this.preference) this.type = 'sft';
  }

  /** Every objective's settings back to the defaults (the pick stays). */
  reset(): void {
    this.dpo = defaultObjective('dpo');
    this.simpo = defaultObjective('simpo');
    this.orpo = defaultObjective('orpo');
    this.reward = defaultObjective('reward');
  }
}

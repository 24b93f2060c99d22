// The best point of a run: the lowest validation loss so far, whether a new validation loss is a new
// lowest (the run then keeps a copy of the weights), and early stopping as Transformers'
// EarlyStoppingCallback decides it: a patience counter of evaluations in a row without a new lowest
// (threshold 0: any decrease counts), reset by every new lowest; the run stops when it reaches the
// patience (0: never).

export class BestTracker {
  /** lowest finite validation loss so far, and its step */
  best: { step: number; loss: number } | null = null;
  /** evaluations in a row since the last new lowest */
  sinceBest = 0;

  constructor(
    readonly patience: number,
    /** the validation losses of a resumed run: its lowest is the one to beat */
    earlier: readonly { step: number; loss: number }[] = [],
  ) {
    for (const p of earlier) this.observe(p.step, p.loss);
  }

  /** Records a validation loss; true when it is a new lowest (a NaN never is). */
  observe(step: number, loss: number): boolean {
    if (Number.isFinite(loss) && (this.best === null || loss < this.best.loss)) {
      this.best = { step, loss };
      this.sinceBest = 0;
      return true;
    }
    this.sinceBest++;
    return false;
  }

  /** Whether early stopping says the run should end now. */
  get shouldStop(): boolean {
    return this.patience > 0 && this.sinceBest >= this.patience;
  }

  /** Why the run stopped early, in a sentence. */
  get stopMessage(): string {
    const b = this.best;
    const n = this.sinceBest;
    return `Stopped early: the validation loss has not gone below ${b ? `${b.loss.toFixed(4)} (step ${b.step})` : 'its first value'} for ${n} evaluation${n === 1 ? '' : 's'} in a row (early_stopping_patience ${this.patience}).`;
  }
}

// What a running training shows while it runs — the step, the stage, the training and validation
// losses and the tokens/s meter — and how each update from the run loop draws it. A fine-tuning run
// (TrainState) and a pretraining run (NewModelState) extend it and handle the other updates themselves.

import type { LossAt, TrainUpdate } from '../../lib/worker/protocol.ts';
import { etaMs, tokensPerSecond, type StepSample } from './meter.ts';

export class RunCurves {
  stage = $state('');
  step = $state(0);
  totalSteps = $state(0);
  train = $state.raw<LossAt[]>([]);
  validation = $state.raw<LossAt[]>([]);
  /** The last 64 steps' token counts and times: the tokens/s and time-left readouts. */
  meter = $state.raw<StepSample[]>([]);

  get progress(): number | null {
    return this.totalSteps > 0 ? this.step / this.totalSteps : null;
  }

  get tokensPerSecond(): number {
    return tokensPerSecond(this.meter);
  }

  get etaMs(): number {
    return etaMs(this.meter, this.totalSteps);
  }

  /** Draws a start, stage, step, validation or restored update; other kinds are the subclass's. */
  protected drawCurves(u: TrainUpdate): void {
    switch (u.kind) {
      case 'start':
        this.step = u.step;
        this.totalSteps = u.totalSteps;
        this.train = u.history.train;
        this.validation = u.history.validation;
        break;
      case 'stage':
        this.stage = u.message;
        break;
      case 'step':
        this.stage = '';
        this.step = u.step;
        this.totalSteps = u.totalSteps;
        this.train = [...this.train, u.metrics ? { step: u.step, loss: u.loss, metrics: u.metrics } : { step: u.step, loss: u.loss }];
        this.meter = [...this.meter.slice(-63), { step: u.step, tokens: u.tokens, elapsedMs: u.elapsedMs }];
        break;
      case 'validation':
        this.validation = [...this.validation, u.metrics ? { step: u.step, loss: u.loss, metrics: u.metrics } : { step: u.step, loss: u.loss }];
        break;
      case 'restored':
        this.step = u.step;
        this.train = this.train.filter((p) => p.step <= u.step);
        this.validation = this.validation.filter((p) => p.step <= u.step);
        break;
    }
  }
}

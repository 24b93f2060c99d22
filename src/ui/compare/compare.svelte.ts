// State of the compare screen: two sides (the base on onnxruntime-web, the engine's base, or a saved
// adapter), one prompt, one set of sampling options and seed, streamed together; held-out loss and
// perplexity of both; and the check that the engine's base logits match onnxruntime-web's. A finished
// comparison is kept with who produced each side, for the user's verdict (ui/prefs).

import { normalizeSampling, type SamplingOptions } from '../../lib/generate/sampling.ts';
import type { PackedRows } from '../../lib/data/pack.ts';
import type { EngineClient, Task } from '../../lib/worker/client.ts';
import type { CompareResult, EvaluateResult, ParityResult } from '../../lib/worker/protocol.ts';
import { ENGINE_BASE, evaluationWeights, ONNX_BASE, toSide, type SideChoice } from './sides.ts';
import type { WorkerEvent } from '../../lib/worker/protocol.ts';
import { GenerationStream } from '../generation.svelte.ts';
import { errorMessage } from '../format.ts';
import type { Answer, Generator } from '../../lib/feedback/verdicts.ts';

/** Who a comparison's sides are, as the verdict records them. */
export interface CompareWho {
  /** The model loaded (both sides run it, with or without an adapter). */
  model: string;
  /** A side's adapter name, or null for the base. */
  adapterName: (choice: SideChoice) => string | null;
}

/** A comparison that finished: what the verdict is about, fixed when it started. */
export interface FinishedComparison {
  /** Counts comparisons (CompareState.completed when it finished): a verdict is given once per comparison. */
  run: number;
  prompt: string;
  left: Answer;
  right: Answer;
}

export class CompareState {
  /** The engine's base by default: same weights and dtype as a tuned side (onnxruntime-web's is a choice). */
  left = $state<SideChoice>(ENGINE_BASE);
  right = $state<SideChoice>(ENGINE_BASE);
  prompt = $state('');
  chat = $state(false);
  /** What the quick-picked prompt's example answered, shown as the reference. */
  reference = $state<string | null>(null);

  running = $state(false);
  readonly leftOut = new GenerationStream();
  readonly rightOut = new GenerationStream();
  /** The sampling options the last comparison used (shown with the result). */
  usedSampling = $state.raw<SamplingOptions | null>(null);
  error = $state<string | null>(null);
  completed = $state(0);
  /** The last comparison that finished without error (null while one runs, or after a failure). */
  finished = $state.raw<FinishedComparison | null>(null);

  evaluating = $state(false);
  leftEval = $state.raw<EvaluateResult | null>(null);
  rightEval = $state.raw<EvaluateResult | null>(null);
  evalError = $state<string | null>(null);

  checking = $state(false);
  parity = $state.raw<ParityResult | null>(null);
  parityError = $state<string | null>(null);

  private readonly client: EngineClient;
  private task: Task<CompareResult> | null = null;

  constructor(client: EngineClient) {
    this.client = client;
  }

  pick(prompt: string, reference: string | null): void {
    this.prompt = prompt;
    this.reference = reference;
  }

  /** Compares the two sides; `who` names them for the verdict that may follow. */
  async compare(sampling: SamplingOptions, who: CompareWho): Promise<void> {
    if (this.running || !this.prompt.trim()) return;
    this.running = true;
    this.error = null;
    this.finished = null;
    this.leftOut.reset();
    this.rightOut.reset();
    const used = normalizeSampling(sampling);
    this.usedSampling = used;
    const by = (choice: SideChoice): Generator => {
      const side = toSide(choice);
      const adapterId = side.runtime === 'engine' ? side.adapterId : null;
      return { model: who.model, runtime: side.runtime, adapterId, adapterName: adapterId ? who.adapterName(choice) : null, sampling: used, chat: this.chat };
    };
    const started = { prompt: this.prompt, left: by(this.left), right: by(this.right) };
    const task = this.client.request(
      'compare',
      { prompt: this.prompt, chat: this.chat, sampling: used, left: toSide(this.left), right: toSide(this.right) },
      (event: WorkerEvent) => {
        if (event.type !== 'compareToken' || task !== this.task) return;
        (event.side === 'left' ? this.leftOut : this.rightOut).push(event.token);
      },
    );
    this.task = task;
    try {
      const r = await task.result;
      this.leftOut.finish(r.left);
      this.rightOut.finish(r.right);
      this.finished = {
        run: this.completed + 1,
        prompt: started.prompt,
        left: { text: r.left.text, by: started.left },
        right: { text: r.right.text, by: started.right },
      };
    } catch (err) {
      this.error = errorMessage(err);
    } finally {
      if (this.task === task) this.task = null;
      this.running = false;
      this.completed++;
    }
  }

  cancel(): void {
    this.task?.cancel();
  }

  /** Held-out loss and perplexity of both sides on `rows` (the validation split). */
  async evaluate(rows: PackedRows, batch: number, padId: number): Promise<void> {
    if (this.evaluating) return;
    this.evaluating = true;
    this.evalError = null;
    this.leftEval = null;
    this.rightEval = null;
    try {
      const snapshot = $state.snapshot(rows) as PackedRows;
      const l = evaluationWeights(this.left);
      const r = evaluationWeights(this.right);
      this.leftEval = await this.client.request('evaluate', { adapterId: l, rows: snapshot, batch, padId }).result;
      this.rightEval = l === r ? this.leftEval : await this.client.request('evaluate', { adapterId: r, rows: snapshot, batch, padId }).result;
    } catch (err) {
      this.evalError = errorMessage(err);
    } finally {
      this.evaluating = false;
    }
  }

  /** Checks the engine's base logits against onnxruntime-web's on the current prompt. */
  async checkParity(): Promise<void> {
    if (this.checking || !this.prompt.trim()) return;
    this.checking = true;
    this.parityError = null;
    this.parity = null;
    try {
      this.parity = await this.client.request('parity', { prompt: this.prompt, chat: this.chat }).result;
    } catch (err) {
      this.parityError = errorMessage(err);
    } finally {
      this.checking = false;
    }
  }
}

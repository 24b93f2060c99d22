// State of the score box: a saved reward model rates a prompt + answer in the worker, through
// rewards/model.ts scoreAnswers — what `lora-playground score` prints.
import { DEFAULTS } from '../../lib/train/config.ts';
import type { EngineClient } from '../../lib/worker/client.ts';
import { errorMessage } from '../format.ts';

export class ScoreState {
  prompt = $state('');
  answer = $state('');
  adapterId = $state<string | null>(null);
  busy = $state(false);
  /** The last rating, with what it rated. */
  result = $state.raw<{ prompt: string; answer: string; reward: number } | null>(null);
  error = $state<string | null>(null);

  private readonly client: EngineClient;

  constructor(client: EngineClient) {
    this.client = client;
  }

  /** Why Score cannot run yet ('' when it can). */
  get problem(): string {
    if (!this.adapterId) return 'pick a saved reward model';
    if (this.answer.trim() === '') return 'type the answer to rate';
    return '';
  }

  async score(): Promise<void> {
    if (this.busy || this.problem) return;
    this.busy = true;
    this.error = null;
    const item = { prompt: this.prompt, answer: this.answer };
    try {
      const { rewards } = await this.client.request('score', { adapterId: this.adapterId!, items: [item], seqLen: DEFAULTS.training.max_length }).result;
      this.result = { ...item, reward: rewards[0] };
    } catch (e) {
      this.error = errorMessage(e);
    } finally {
      this.busy = false;
    }
  }
}

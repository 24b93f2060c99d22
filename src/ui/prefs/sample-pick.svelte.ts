// "Sample and pick": one prompt, K samples (2…8) from one model — the base on either runtime, or an
// adapter — with the seed varied (the sampling settings' seed and the K−1 after it), drawn one after
// another through the worker's `sample` request; the user picks the best (and optionally the worst)
// and the pairs follow (feedback/verdicts.ts pickPairs).

import { isGreedy, normalizeSampling, type SamplingOptions } from '../../lib/generate/sampling.ts';
import { type Answer, type Generator, pickPairs, sampleSeeds } from '../../lib/feedback/verdicts.ts';
import type { EngineClient, Task } from '../../lib/worker/client.ts';
import type { GenerationResult } from '../../lib/generate/stream.ts';
import { ENGINE_BASE, toSide, type SideChoice } from '../compare/sides.ts';
import { GenerationStream } from '../generation.svelte.ts';
import { errorMessage } from '../format.ts';
import type { PreferenceState } from './preferences.svelte.ts';

export const MIN_SAMPLES = 2;
export const MAX_SAMPLES = 8;

export class SamplePickState {
  model = $state<SideChoice>(ENGINE_BASE);
  prompt = $state('');
  chat = $state(false);
  k = $state(4);

  running = $state(false);
  error = $state<string | null>(null);
  /** The samples drawn (one stream each) and what produced each. */
  streams = $state.raw<GenerationStream[]>([]);
  /** The seed of each sample. */
  seeds = $state.raw<number[]>([]);
  answers = $state.raw<Answer[]>([]);
  /** The prompt the samples answer (fixed when drawing started). */
  drawnFor = $state('');
  best = $state<number | null>(null);
  worst = $state<number | null>(null);
  /** What the last "keep" made. */
  kept = $state<string | null>(null);

  private readonly client: EngineClient;
  private task: Task<GenerationResult> | null = null;
  private cancelled = false;

  constructor(client: EngineClient) {
    this.client = client;
  }

  /** K as drawn: the field's value, rounded and kept within 2…8. */
  get count(): number {
    const k = Math.round(Number(this.k));
    return Number.isFinite(k) ? Math.min(MAX_SAMPLES, Math.max(MIN_SAMPLES, k)) : MIN_SAMPLES;
  }

  /** Draws K samples, the seed varied; `describe` says who the model is. */
  async draw(sampling: SamplingOptions, describe: Omit<Generator, 'sampling' | 'chat'>): Promise<void> {
    if (this.running || !this.prompt.trim()) return;
    const used = normalizeSampling(sampling);
    if (isGreedy(used)) {
      this.error = 'Greedy decoding (temperature 0) gives the same text for every seed: raise the temperature to draw different samples.';
      return;
    }
    const seeds = sampleSeeds(used.seed, this.count);
    this.running = true;
    this.cancelled = false;
    this.error = null;
    this.kept = null;
    this.best = null;
    this.worst = null;
    this.answers = [];
    this.drawnFor = this.prompt;
    const streams = seeds.map(() => new GenerationStream());
    this.streams = streams;
    this.seeds = seeds;
    const answers: Answer[] = [];
    try {
      for (let i = 0; i < seeds.length && !this.cancelled; i++) {
        const options = { ...used, seed: seeds[i] };
        const task = this.client.request('sample', { prompt: this.drawnFor, chat: this.chat, sampling: options, side: toSide(this.model) }, (event) => {
          if (event.type === 'token' && task === this.task) streams[i].push(event.token);
        });
        this.task = task;
        const result = await task.result;
        streams[i].finish(result);
        answers.push({ text: result.text, by: { ...describe, sampling: options, chat: this.chat } });
      }
      if (!this.cancelled) this.answers = answers;
    } catch (err) {
      this.error = this.cancelled ? null : errorMessage(err);
    } finally {
      this.task = null;
      this.running = false;
    }
  }

  cancel(): void {
    this.cancelled = true;
    this.task?.cancel();
  }

  /** The pairs the current pick makes, and how many samples could not pair with the best. */
  get pick(): ReturnType<typeof pickPairs> | null {
    if (this.best === null || this.answers.length === 0) return null;
    return pickPairs(this.drawnFor, this.answers, this.best, this.worst === this.best ? null : this.worst);
  }

  /** Keeps the pick's pairs in the store. */
  async keep(prefs: PreferenceState): Promise<void> {
    const pick = this.pick;
    if (!pick) return;
    if (pick.pairs.length === 0) {
      this.kept = 'No pair: every other sample has the same text as the best one.';
      return;
    }
    if (await prefs.keepPairs(pick.pairs)) {
      const skipped = pick.skipped ? ` (${pick.skipped} sample${pick.skipped === 1 ? '' : 's'} with the best one's text left out)` : '';
      this.kept = `Kept ${pick.pairs.length} pair${pick.pairs.length === 1 ? '' : 's'}${skipped}.`;
      this.answers = [];
      this.best = null;
      this.worst = null;
    }
  }
}

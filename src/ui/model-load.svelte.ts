// Loading a model in the worker, as the page follows it: the phase, the stage the worker reports
// (status events), the bytes downloaded (progress events), the result or the error. The base model's
// state and the engine's state both extend it. A newer load supersedes an older one: the older one's
// events and outcome are ignored.

import type { Task } from '../lib/worker/client.ts';
import type { WorkerEvent } from '../lib/worker/protocol.ts';
import { errorMessage } from './format.ts';

export type LoadPhase = 'idle' | 'loading' | 'ready' | 'error';

export class ModelLoad<T> {
  phase = $state<LoadPhase>('idle');
  /** What the worker is doing now, in words ('' when not loading). */
  stage = $state('');
  loadedBytes = $state(0);
  totalBytes = $state(0);
  /** What the load returned; null until it has. */
  value = $state.raw<T | null>(null);
  error = $state<string | null>(null);

  /** The load whose events and outcome count (a fresh object per load). */
  private current: object | null = null;

  get ready(): boolean {
    return this.phase === 'ready' && this.value !== null;
  }

  /** 0..1 of the bytes known so far, or null while the total is unknown. */
  get progress(): number | null {
    return this.totalBytes > 0 ? Math.min(1, this.loadedBytes / this.totalBytes) : null;
  }

  /**
   * Starts a load: `start` sends the request with the event handler it is given. Resolves with the
   * loaded value, or null when the load failed (see `error`) or a newer one superseded it.
   */
  async run(firstStage: string, start: (onEvent: (event: WorkerEvent) => void) => Task<T>): Promise<T | null> {
    const token = {};
    this.current = token;
    this.phase = 'loading';
    this.error = null;
    this.value = null;
    this.loadedBytes = 0;
    this.totalBytes = 0;
    this.stage = firstStage;
    const task = start((event) => {
      if (this.current !== token) return;
      if (event.type === 'status') this.stage = event.message;
      if (event.type === 'progress') {
        this.loadedBytes = event.loaded;
        this.totalBytes = event.total;
      }
    });
    try {
      const value = await task.result;
      if (this.current !== token) return null;
      this.value = value;
      this.phase = 'ready';
      this.stage = '';
      return value;
    } catch (err) {
      if (this.current !== token) return null;
      this.fail(errorMessage(err));
      return null;
    }
  }

  /** Ends in an error without asking the worker (e.g. the model id is not valid); supersedes any load. */
  fail(message: string): void {
    this.current = null;
    this.phase = 'error';
    this.stage = '';
    this.error = message;
  }
}

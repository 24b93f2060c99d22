// State of the WebGPU engine in the page: loaded next to the base model (same model, after it), with
// the GPU it runs on. The training, compare and adapter screens read it; only the worker touches the GPU.

import type { ModelSpec } from '../../lib/base/catalog.ts';
import type { EngineClient, Task } from '../../lib/worker/client.ts';
import type { EngineInfo, WorkerEvent } from '../../lib/worker/protocol.ts';

export type EnginePhase = 'idle' | 'loading' | 'ready' | 'error';

export class EngineState {
  phase = $state<EnginePhase>('idle');
  info = $state.raw<EngineInfo | null>(null);
  error = $state<string | null>(null);
  stage = $state('');
  loadedBytes = $state(0);
  totalBytes = $state(0);
  /** The model id the engine was last asked to load. */
  requested = $state<string | null>(null);

  private readonly client: EngineClient;
  private readonly hubHost: string | undefined;
  private task: Task<EngineInfo> | null = null;

  constructor(client: EngineClient, hubHost?: string) {
    this.client = client;
    this.hubHost = hubHost;
  }

  get ready(): boolean {
    return this.phase === 'ready' && this.info !== null;
  }

  get progress(): number | null {
    return this.totalBytes > 0 ? Math.min(1, this.loadedBytes / this.totalBytes) : null;
  }

  /** Loads `model` (the base runtime's) into the engine. */
  async load(model: ModelSpec): Promise<void> {
    this.requested = model.id;
    this.phase = 'loading';
    this.error = null;
    this.info = null;
    this.loadedBytes = 0;
    this.totalBytes = 0;
    this.stage = 'Waiting for the worker…';
    const task = this.client.request(
      'engineLoad',
      { model, localModels: new URL('models/', document.baseURI).href, hubHost: this.hubHost },
      (event: WorkerEvent) => {
        if (task !== this.task) return;
        if (event.type === 'status') this.stage = event.message;
        if (event.type === 'progress') {
          this.loadedBytes = event.loaded;
          this.totalBytes = event.total;
        }
      },
    );
    this.task = task;
    try {
      const info = await task.result;
      if (task !== this.task) return;
      this.info = info;
      this.phase = 'ready';
      this.stage = '';
    } catch (err) {
      if (task !== this.task) return;
      this.phase = 'error';
      this.error = err instanceof Error ? err.message : String(err);
    }
  }
}

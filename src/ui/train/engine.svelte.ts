// State of the WebGPU engine in the page: loaded next to the base model (same model, after it), with
// the GPU it runs on. The training, compare and adapter screens read it; only the worker touches the GPU.

import type { ModelSpec } from '../../lib/base/catalog.ts';
import type { EngineClient } from '../../lib/worker/client.ts';
import type { EngineInfo } from '../../lib/worker/protocol.ts';
import { ModelLoad } from '../model-load.svelte.ts';

/** The engine's load (phase, stage, bytes, error) and what got loaded. */
export class EngineState extends ModelLoad<EngineInfo> {
  /** The model id the engine was last asked to load. */
  requested = $state<string | null>(null);

  private readonly client: EngineClient;
  private readonly hubHost: string | undefined;

  constructor(client: EngineClient, hubHost?: string) {
    super();
    this.client = client;
    this.hubHost = hubHost;
  }

  /** The loaded engine's model and GPU, or null. */
  get info(): EngineInfo | null {
    return this.value;
  }

  /** Loads `model` (the base runtime's) into the engine. */
  async load(model: ModelSpec): Promise<void> {
    this.requested = model.id;
    const payload = { model, localModels: new URL('models/', document.baseURI).href, hubHost: this.hubHost };
    await this.run('Waiting for the worker…', (onEvent) => this.client.request('engineLoad', payload, onEvent));
  }
}

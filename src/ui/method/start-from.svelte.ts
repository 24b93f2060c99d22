// "Continue from adapter": a saved adapter (the adapter list's, IndexedDB) as the starting point of a
// new run, SFT or a preference objective. The run starts from its weights instead of the method's
// initial values, and DPO's reference is that adapter as it was (TRL's "ref" adapter): the worker
// does both (TrainRequest.fromAdapterId) and keeps the choice in the run's checkpoint, so Resume
// continues the same run.
//
// The adapter fixes the method: its adapter_config.json becomes the method panel's settings (the
// worker refuses a plan whose method is not exactly the adapter's), and they stay locked while it is
// the starting point.

import type { MethodConfig } from '../../lib/adapters/config.ts';
import { parseAdapterConfig } from '../../lib/peft/config.ts';
import { getAdapterFiles, type AdapterMeta } from '../../lib/store/index.ts';
import { errorMessage } from '../format.ts';

/** The saved adapter a run continues: its id (the worker reads it again) and what the page shows of it. */
export interface StartingAdapter {
  id: string;
  name: string;
  method: MethodConfig;
  baseModel: string | null;
}

/** Reads a saved adapter's method from its files: the adapter list's store, the parser imports use. */
export type ReadMethod = (id: string) => Promise<{ method: MethodConfig; baseModel: string | null }>;

export const readSavedMethod: ReadMethod = async (id) => {
  const files = await getAdapterFiles(id);
  const parsed = parseAdapterConfig(files.configJson);
  return { method: parsed.method, baseModel: parsed.baseModel };
};

/**
 * Why this adapter cannot start a run on the loaded model, or null when it can. An adapter that names
 * another base model is refused here, before its weights are read: its shapes would not fit.
 */
export function startProblem(meta: Pick<AdapterMeta, 'name' | 'baseModel'>, modelId: string | null): string | null {
  if (modelId && meta.baseModel && meta.baseModel !== modelId) {
    return `${meta.name} was trained on ${meta.baseModel}, not the loaded ${modelId}: pick an adapter of this model`;
  }
  return null;
}

export class StartFromState {
  /** The adapter the next run continues (null: a fresh adapter). */
  adapter = $state.raw<StartingAdapter | null>(null);
  /** Why the last pick could not be used, in a sentence. */
  error = $state<string | null>(null);
  reading = $state(false);
  private readonly read: ReadMethod;
  /** Where the picked adapter's method goes (the method panel's state). */
  private readonly useMethod: (m: MethodConfig) => void;

  constructor(useMethod: (m: MethodConfig) => void, read: ReadMethod = readSavedMethod) {
    this.useMethod = useMethod;
    this.read = read;
  }

  /** Starts the next run from this saved adapter (its method becomes the panel's), or from scratch (null). */
  async pick(meta: Pick<AdapterMeta, 'id' | 'name' | 'baseModel'> | null, modelId: string | null): Promise<void> {
    this.error = null;
    if (!meta) {
      this.adapter = null;
      return;
    }
    const problem = startProblem(meta, modelId);
    if (problem) {
      this.error = problem;
      return;
    }
    this.reading = true;
    try {
      const { method, baseModel } = await this.read(meta.id);
      this.useMethod(method);
      this.adapter = { id: meta.id, name: meta.name, method, baseModel };
    } catch (e) {
      this.error = `Cannot continue ${meta.name}: ${errorMessage(e)}`;
    } finally {
      this.reading = false;
    }
  }

  /** The adapter list changed: a starting adapter that was deleted is dropped, with a word why. */
  follow(list: readonly Pick<AdapterMeta, 'id' | 'name'>[]): void {
    const a = this.adapter;
    if (a && !list.some((m) => m.id === a.id)) {
      this.adapter = null;
      this.error = `${a.name} was deleted: the next run starts from a fresh adapter`;
    }
  }
}

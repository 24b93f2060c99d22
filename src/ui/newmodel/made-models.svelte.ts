// The models made in this browser (store/models.ts): listed newest first, downloadable as their
// Hugging Face folder in a .zip (the same uncompressed zip writer as adapter export), deletable unless
// loaded as the base model. One list serves the New model panel and the model picker.

import { writeZip } from '../../lib/peft/zip.ts';
import { fileStem } from '../../lib/store/names.ts';
import { deleteModel, listModels, type ModelRecord } from '../../lib/store/models.ts';
import { errorMessage } from '../format.ts';

/** Where the models are kept (IndexedDB), replaceable in tests. */
export interface ModelStore {
  list(): Promise<ModelRecord[]>;
  remove(id: string): Promise<boolean>;
}

export const indexedDbModels: ModelStore = { list: listModels, remove: deleteModel };

/** The folder as a .zip, every file under "<name>/" (what from_pretrained reads once unzipped). */
export function modelZip(model: Pick<ModelRecord, 'name' | 'files'>, modified = new Date()): { fileName: string; bytes: Uint8Array } {
  const stem = fileStem(model.name);
  const enc = new TextEncoder();
  const entries = model.files.map((f) => ({ name: `${stem}/${f.name}`, data: typeof f.data === 'string' ? enc.encode(f.data) : f.data }));
  return { fileName: `${stem}.zip`, bytes: writeZip(entries, modified) };
}

export class MadeModels {
  list = $state.raw<ModelRecord[]>([]);
  error = $state<string | null>(null);
  private readonly store: ModelStore;
  /** The id of the made model loaded as the base model, if one is (it cannot be deleted then). */
  private readonly inUse: () => string | null;

  constructor(store: ModelStore = indexedDbModels, inUse: () => string | null = () => null) {
    this.store = store;
    this.inUse = inUse;
  }

  async refresh(): Promise<void> {
    try {
      this.list = await this.store.list();
      this.error = null;
    } catch (e) {
      this.error = `Model storage failed: ${errorMessage(e)}`;
    }
  }

  /** Deletes a kept model, unless it is the loaded base model (refused, with what to do). */
  async remove(id: string): Promise<void> {
    if (this.inUse() === id) {
      const name = this.list.find((m) => m.id === id)?.name ?? id;
      this.error = `${name} is the loaded base model: load another model before deleting it`;
      return;
    }
    try {
      await this.store.remove(id);
    } catch (e) {
      this.error = `Model storage failed: ${errorMessage(e)}`;
    }
    await this.refresh();
  }
}

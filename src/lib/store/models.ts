// Models made in the page (New model: pretraining from scratch), kept in IndexedDB across reloads as
// their Hugging Face folder — config.json, generation_config.json, model.safetensors and the tokenizer
// files, exactly what the download's .zip holds — with a small description for the list. The tiny
// presets are a few MB, so one record holds the files and the description together.

import type { ArchitectureSpec } from '../pretrain/create.ts';
import type { FolderFile } from '../pretrain/folder.ts';
import { newId } from './adapters.ts';
import { done, STORES, transact } from './db.ts';
import { uniqueName } from './names.ts';

export interface ModelRecord {
  id: string;
  name: string;
  architecture: ArchitectureSpec;
  parameters: number;
  seed: number;
  initializerRange: number;
  /** What it was trained on (file names, or the built-in Brown slice). */
  dataset: string;
  steps: number;
  trainLoss: number | null;
  valLoss: number | null;
  createdAt: number;
  /** The Hugging Face folder's files. */
  files: FolderFile[];
}

export type NewModelRecord = Omit<ModelRecord, 'id' | 'createdAt'>;

/** Every kept model, newest first. */
export async function listModels(): Promise<ModelRecord[]> {
  const all = (await transact([STORES.models], 'readonly', (tx) => done(tx.objectStore(STORES.models).getAll()))) as ModelRecord[];
  return all.sort((a, b) => b.createdAt - a.createdAt);
}

/** One kept model, or null when there is none with that id. */
export async function getModel(id: string): Promise<ModelRecord | null> {
  const record = await transact([STORES.models], 'readonly', (tx) => done(tx.objectStore(STORES.models).get(id)));
  return (record as ModelRecord | undefined) ?? null;
}

/** Keeps a new model (its name made unique: " (2)") and returns its record. */
export async function saveModel(input: NewModelRecord): Promise<ModelRecord> {
  return transact([STORES.models], 'readwrite', async (tx) => {
    const others = (await done(tx.objectStore(STORES.models).getAll())) as ModelRecord[];
    const record: ModelRecord = { ...input, id: newId(), name: uniqueName(input.name, others), createdAt: Date.now() };
    tx.objectStore(STORES.models).put(record);
    return record;
  });
}

/** Forgets a kept model; false when there was none with that id. */
export async function deleteModel(id: string): Promise<boolean> {
  return transact([STORES.models], 'readwrite', async (tx) => {
    const store = tx.objectStore(STORES.models);
    if (!(await done(store.get(id)))) return false;
    store.delete(id);
    return true;
  });
}

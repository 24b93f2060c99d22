// Saved adapters, kept in IndexedDB across reloads: each is its PEFT files (adapter_config.json text and
// adapter_model.safetensors bytes, exactly what export hands out) plus a small description for the list.
// Keeping the files themselves means export is a copy and an adapter never changes between being saved
// and being used again.

import { parseSafetensors } from '../model/safetensors.ts';
import { describeMethod } from '../adapters/config.ts';
import { parseAdapterConfig, type AdapterMethod } from '../peft/config.ts';
import { done, STORES, transact } from './db.ts';
import { nameProblem, uniqueName } from './names.ts';

/** How an adapter came to be. */
export type AdapterSource = 'trained' | 'imported';

/** What training produced it, when it was trained here. */
export interface TrainingSummary {
  steps: number;
  /** The last smoothed training loss. */
  trainLoss: number | null;
  /** Held-out loss at the end, when there was a validation split. */
  valLoss: number | null;
  /** The dataset's file name. */
  dataset: string | null;
}

/** One saved adapter as the list shows it (the files live in a store of their own). */
export interface AdapterMeta {
  id: string;
  name: string;
  /** The base model it was trained on / declares (adapter_config.json's base_model_name_or_path). */
  baseModel: string | null;
  peftType: AdapterMethod['peft_type'];
  /** The method and its settings in a few words, e.g. "LoRA r 8, α 16 · q_proj, v_proj". */
  summary: string;
  /** Trainable numbers in the file. */
  parameters: number;
  /** Size of adapter_model.safetensors. */
  bytes: number;
  source: AdapterSource;
  createdAt: number;
  updatedAt: number;
  training: TrainingSummary | null;
}

export interface AdapterFilesRecord {
  id: string;
  /** adapter_config.json */
  configJson: string;
  /** adapter_model.safetensors */
  weights: Uint8Array;
}

export interface NewAdapter {
  /** Wanted name; made unique (" (2)") if another adapter has it. */
  name: string;
  configJson: string;
  weights: Uint8Array;
  source: AdapterSource;
  training?: TrainingSummary | null;
}

/** The list entry for a pair of files (parses both; throws what the parsers throw on bad input). */
export function describeAdapterFiles(
  files: { configJson: string; weights: Uint8Array },
): Pick<AdapterMeta, 'baseModel' | 'peftType' | 'summary' | 'parameters' | 'bytes'> {
  const file = parseAdapterConfig(files.configJson);
  const st = parseSafetensors(files.weights, { source: 'adapter_model.safetensors' });
  let parameters = 0;
  for (const t of st.tensors) parameters += t.shape.reduce((a, b) => a * b, 1);
  return {
    baseModel: file.baseModel,
    peftType: file.method.peft_type,
    summary: describeMethod(file.method),
    parameters,
    bytes: files.weights.byteLength,
  };
}

/** A fresh record id (a UUID where the platform has one). */
export function newId(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

const byNewest = (a: AdapterMeta, b: AdapterMeta) => b.createdAt - a.createdAt;

/** Every saved adapter, newest first. */
export async function listAdapters(): Promise<AdapterMeta[]> {
  const all = await transact([STORES.adapters], 'readonly', (tx) => done(tx.objectStore(STORES.adapters).getAll()));
  return (all as AdapterMeta[]).sort(byNewest);
}

/** The adapter's two PEFT files, as saved. */
export async function getAdapterFiles(id: string): Promise<AdapterFilesRecord> {
  const rec = await transact([STORES.adapterFiles], 'readonly', (tx) => done(tx.objectStore(STORES.adapterFiles).get(id)));
  if (!rec) throw new Error(`no saved adapter has id ${id} (it may have been deleted in another tab)`);
  return rec as AdapterFilesRecord;
}

/** Saves a new adapter (files and list entry in one transaction) and returns its list entry. */
export async function saveAdapter(input: NewAdapter): Promise<AdapterMeta> {
  const described = describeAdapterFiles(input);
  const now = Date.now();
  const id = newId();
  return transact([STORES.adapters, STORES.adapterFiles], 'readwrite', async (tx) => {
    const others = (await done(tx.objectStore(STORES.adapters).getAll())) as AdapterMeta[];
    const meta: AdapterMeta = {
      id,
      name: uniqueName(input.name, others),
      ...described,
      source: input.source,
      createdAt: now,
      updatedAt: now,
      training: input.training ?? null,
    };
    const files: AdapterFilesRecord = { id, configJson: input.configJson, weights: input.weights };
    tx.objectStore(STORES.adapters).put(meta);
    tx.objectStore(STORES.adapterFiles).put(files);
    return meta;
  });
}

/** Renames an adapter; throws with the reason when the name is not allowed (empty, taken, …). */
export async function renameAdapter(id: string, name: string): Promise<AdapterMeta> {
  return transact([STORES.adapters], 'readwrite', async (tx) => {
    const store = tx.objectStore(STORES.adapters);
    const others = (await done(store.getAll())) as AdapterMeta[];
    const meta = others.find((m) => m.id === id);
    if (!meta) throw new Error(`no saved adapter has id ${id}`);
    const problem = nameProblem(name, others, id);
    if (problem) throw new Error(problem);
    const renamed: AdapterMeta = { ...meta, name: name.trim(), updatedAt: Date.now() };
    store.put(renamed);
    return renamed;
  });
}

/** Deletes an adapter and its files. Resolves false when there was none with this id. */
export async function deleteAdapter(id: string): Promise<boolean> {
  return transact([STORES.adapters, STORES.adapterFiles], 'readwrite', async (tx) => {
    const had = (await done(tx.objectStore(STORES.adapters).count(id))) > 0;
    tx.objectStore(STORES.adapters).delete(id);
    tx.objectStore(STORES.adapterFiles).delete(id);
    return had;
  });
}

/**
 * Replaces a saved adapter's files and training summary (a run saving its newer weights), keeping its
 * name and creation time. Creates it, with `input.name` made unique, when `id` is not saved (any more).
 */
export async function replaceAdapterFiles(id: string, input: NewAdapter): Promise<AdapterMeta> {
  const described = describeAdapterFiles(input);
  const now = Date.now();
  return transact([STORES.adapters, STORES.adapterFiles], 'readwrite', async (tx) => {
    const store = tx.objectStore(STORES.adapters);
    const others = (await done(store.getAll())) as AdapterMeta[];
    const old = others.find((m) => m.id === id);
    const meta: AdapterMeta = {
      id,
      name: old?.name ?? uniqueName(input.name, others),
      ...described,
      source: input.source,
      createdAt: old?.createdAt ?? now,
      updatedAt: now,
      training: input.training ?? null,
    };
    store.put(meta);
    tx.objectStore(STORES.adapterFiles).put({ id, configJson: input.configJson, weights: input.weights } satisfies AdapterFilesRecord);
    return meta;
  });
}

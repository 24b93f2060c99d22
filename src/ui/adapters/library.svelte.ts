// State of the adapter list: every adapter kept in IndexedDB (trained here or imported), with rename,
// delete, export in PEFT's format (a .zip, or the two files) and import of the same files, checked
// against the loaded base model. Also whether the browser granted persistent storage.

import type { BaseModel } from '../../lib/peft/config.ts';
import { CONFIG_FILE, importAdapter, nameAdapterWeights, readAdapterFiles, sameAdapter, WEIGHTS_FILE } from '../../lib/peft/adapter.ts';
import { PeftError } from '../../lib/peft/config.ts';
import { writeZip } from '../../lib/peft/zip.ts';
import { importedName } from './names.ts';
import {
  deleteAdapter,
  fileStem,
  getAdapterFiles,
  listAdapters,
  renameAdapter,
  requestPersistence,
  saveAdapter,
  storageUsage,
  type AdapterMeta,
  type PersistenceState,
} from '../../lib/store/index.ts';
import { errorMessage } from '../format.ts';

/** Hands bytes to the browser as a download. */
export function download(name: string, bytes: Uint8Array, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export interface ImportProblem {
  /** What failed, e.g. "cannot import this adapter". */
  title: string;
  problems: string[];
}

/** Whether a saved adapter is a reward model (its method carries the score head): it scores answers, it does not write them. */
export function isRewardModel(meta: Pick<AdapterMeta, 'summary'>): boolean {
  return meta.summary.endsWith('+ score head');
}

export class AdapterLibrary {
  list = $state.raw<AdapterMeta[]>([]);
  /** The adapters that write text, every one but the reward models: what Compare, Sample and pick, Evaluate and RAFT's policy use. */
  readonly policies = $derived(this.list.filter((m) => !isRewardModel(m)));
  /** The reward models: what RAFT's reward and the score box offer. */
  readonly rewardModels = $derived(this.list.filter(isRewardModel));
  loaded = $state(false);
  persistence = $state.raw<PersistenceState | null>(null);
  /** Storage itself failed (no IndexedDB, quota). */
  error = $state<string | null>(null);
  importing = $state(false);
  importProblem = $state.raw<ImportProblem | null>(null);
  importWarnings = $state.raw<string[]>([]);
  /** The last adapter imported (for a confirmation). */
  imported = $state.raw<AdapterMeta | null>(null);
  /** An adapter already in the list that the last import is identical to (same settings and weights), if any. */
  importedTwin = $state.raw<AdapterMeta | null>(null);
  /** Imports finished (either way) since the page opened. */
  imports = $state(0);

  /** Re-reads the list from IndexedDB, and the storage used (a save, an import or a delete changes it). */
  async refresh(): Promise<void> {
    try {
      this.list = await listAdapters();
      this.error = null;
    } catch (err) {
      this.error = errorMessage(err);
    } finally {
      this.loaded = true;
    }
    // Only the numbers: whether storage is persistent is persist()'s answer, asked once.
    const used = await storageUsage().catch(() => null);
    if (used && this.persistence?.supported) this.persistence = { ...this.persistence, ...used };
  }

  /** Asks for persistent storage once (the answer is shown next to the list). */
  async persist(): Promise<void> {
    try {
      this.persistence = await requestPersistence();
    } catch {
      this.persistence = { supported: false, persisted: false, usage: null, quota: null };
    }
  }

  async rename(id: string, name: string): Promise<string | null> {
    try {
      await renameAdapter(id, name);
      await this.refresh();
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await deleteAdapter(id);
    } catch (err) {
      this.error = errorMessage(err);
    }
    await this.refresh();
  }

  /** The two PEFT files of a saved adapter, its current name kept in the weights' metadata. */
  private async exported(meta: AdapterMeta): Promise<{ config: Uint8Array; weights: Uint8Array }> {
    const files = await getAdapterFiles(meta.id);
    return { config: new TextEncoder().encode(files.configJson), weights: nameAdapterWeights(files.weights, meta.name) };
  }

  /** Downloads the adapter as one .zip holding adapter_config.json and adapter_model.safetensors. */
  async exportZip(meta: AdapterMeta): Promise<void> {
    const files = await this.exported(meta);
    const zip = writeZip([
      { name: CONFIG_FILE, data: files.config },
      { name: WEIGHTS_FILE, data: files.weights },
    ]);
    download(`${fileStem(meta.name)}.zip`, zip, 'application/zip');
  }

  /** Downloads the two files themselves (as PEFT's save_pretrained writes them into a folder). */
  async exportFiles(meta: AdapterMeta): Promise<void> {
    const files = await this.exported(meta);
    download(CONFIG_FILE, files.config, 'application/json');
    download(WEIGHTS_FILE, files.weights, 'application/octet-stream');
  }

  /**
   * The saved adapter these files are identical to (peft/adapter.ts sameAdapter), or null. Only
   * adapters of the same method and size are read to compare.
   */
  private async identicalTo(files: { configJson: string; weights: Uint8Array }, peftType: AdapterMeta['peftType']): Promise<AdapterMeta | null> {
    for (const meta of this.list) {
      if (meta.peftType !== peftType) continue;
      try {
        if (sameAdapter(files, await getAdapterFiles(meta.id))) return meta;
      } catch {
        // deleted meanwhile (another tab): not a twin
      }
    }
    return null;
  }

  /**
   * Imports dropped or picked files (two files or one .zip) for the loaded base model: every check of
   * peft/adapter.ts runs before anything is saved, and every problem is listed.
   */
  async importFiles(picked: File[], base: BaseModel): Promise<AdapterMeta | null> {
    this.importing = true;
    this.importProblem = null;
    this.importWarnings = [];
    this.imported = null;
    this.importedTwin = null;
    try {
      const files = await Promise.all(picked.map(async (f) => ({ name: f.webkitRelativePath || f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
      const raw = await readAdapterFiles(files, { base });
      const checked = importAdapter(raw, base);
      const twin = await this.identicalTo({ configJson: raw.config, weights: raw.weights }, checked.config.method.peft_type);
      const meta = await saveAdapter({
        name: checked.name ?? importedName(files, checked.config.method.peft_type),
        configJson: raw.config,
        weights: raw.weights,
        source: 'imported',
      });
      this.importWarnings = checked.warnings;
      this.imported = meta;
      this.importedTwin = twin;
      await this.refresh();
      return meta;
    } catch (err) {
      if (err instanceof PeftError) {
        const title = err.message.split(/:\n|: /)[0];
        this.importProblem = { title, problems: err.problems };
      } else {
        this.importProblem = { title: 'cannot import these files', problems: [errorMessage(err)] };
      }
      return null;
    } finally {
      this.importing = false;
      this.imports++;
    }
  }
}

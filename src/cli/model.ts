// A model folder and an adapter folder, loaded as the page's worker loads them: the weights into the
// engine on a WebGPU device (Dawn), the tokenizer and chat template through transformers.js, and an
// adapter validated by peft/ against the base model before a single weight is used.

import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { loadModelTokenizer, type ModelTokenizer } from '../lib/base/model-source.ts';
import { Engine } from '../lib/engine.ts';
import { acquireNodeGpu } from '../lib/gpu/node.ts';
import { describeAdapter, type Gpu } from '../lib/gpu/index.ts';
import { readModelFiles } from '../lib/model/files.ts';
import { folderReader } from '../lib/model/files-node.ts';
import { CONFIG_FILE, importAdapter, readAdapterFiles, WEIGHTS_FILE } from '../lib/peft/adapter.ts';
import type { AdapterMethod, BaseModel } from '../lib/peft/config.ts';
import type { Reporter } from './output.ts';

/** Bad input the person can fix (a missing folder, a file that is not what it should be): exit code 1. */
export class InputError extends Error {
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
    this.name = 'InputError';
  }
}

/** The files transformers.js needs besides config.json to tokenize. */
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'];

async function kindOf(path: string): Promise<'file' | 'folder' | null> {
  const info = await stat(path).catch(() => null);
  return info === null ? null : info.isDirectory() ? 'folder' : 'file';
}

/** Checks that `path` (given as `flag`) is an existing folder; returns it absolute. */
export async function existingFolder(flag: string, path: string): Promise<string> {
  const abs = resolve(path);
  const kind = await kindOf(abs);
  if (kind === null) throw new InputError(`${flag} ${path}: no such folder`);
  if (kind !== 'folder') throw new InputError(`${flag} ${path}: is a file, not a folder`);
  return abs;
}

/** Checks that `path` (given as `flag`) is an existing file; returns it absolute. */
export async function existingFile(flag: string, path: string): Promise<string> {
  const abs = resolve(path);
  const kind = await kindOf(abs);
  if (kind === null) throw new InputError(`${flag} ${path}: no such file`);
  if (kind !== 'file') throw new InputError(`${flag} ${path}: is a folder, not a file`);
  return abs;
}

/** Names the tokenizer files a model folder lacks (checked before the slow parts start). */
async function checkTokenizerFiles(dir: string, shown: string): Promise<void> {
  const absent = [];
  for (const f of TOKENIZER_FILES) if ((await kindOf(join(dir, f))) !== 'file') absent.push(f);
  if (absent.length) throw new InputError(`${shown} has no ${absent.join(' and no ')}: the command line tokenizes with the model's own tokenizer`);
}

/**
 * The tokenizer of a model folder: transformers.js reads local models as <localModelPath>/<id>/, so
 * the folder's parent is the models folder and its name the model id.
 */
export async function loadFolderTokenizer(dir: string, shown: string): Promise<ModelTokenizer> {
  await checkTokenizerFiles(dir, shown);
  try {
    return await loadModelTokenizer({ id: basename(dir), source: 'shipped' }, { localModels: dirname(dir) });
  } catch (e) {
    throw new InputError(`${shown}: the tokenizer did not load: ${(e as Error).message}`);
  }
}

export interface LoadedModel {
  /** The folder's name: the model id adapters are checked against (as the page's shipped model). */
  id: string;
  engine: Engine;
  tokenizer: ModelTokenizer;
  /** What an adapter must fit. */
  base: BaseModel;
  gpu: Gpu;
  /** Frees the engine's buffers and destroys the device. */
  destroy(): void;
}

/**
 * Loads `--model DIR`: config and weights (model/files.ts) onto a new WebGPU device, and the tokenizer
 * at the same time. Named errors: no such folder, no config.json, no weights, no tokenizer.
 */
export async function loadModel(path: string, out: Reporter): Promise<LoadedModel> {
  const dir = await existingFolder('--model', path);
  out.status('model', `Reading ${path}…`);
  const files = await readModelFiles(folderReader(dir), path, (p) => out.progress(p.file, p.loaded, p.total));
  await checkTokenizerFiles(dir, path);
  const tokenizer = loadFolderTokenizer(dir, path);
  tokenizer.catch(() => {}); // awaited below; a failure must not be reported as unhandled meanwhile
  out.status('gpu', 'Starting WebGPU…');
  const gpu = await acquireNodeGpu({ label: 'lora-playground' });
  try {
    out.status('upload', `Uploading the weights to ${describeAdapter(gpu.adapter)}…`);
    let engine: Engine;
    try {
      engine = await Engine.load(files, { gpu });
    } catch (e) {
      throw new InputError(`${path}: the engine cannot load this model: ${(e as Error).message}`);
    }
    const id = basename(dir);
    return {
      id,
      engine,
      tokenizer: await tokenizer,
      base: { name: id, config: engine.config },
      gpu,
      destroy() {
        engine.destroy();
        gpu.destroy();
      },
    };
  } catch (e) {
    gpu.destroy();
    throw e;
  }
}

/**
 * The adapter's files (given as `flag`) as the page receives dropped files: a folder's
 * adapter_config.json and adapter_model.safetensors (and adapter_model.bin, which peft/ refuses by
 * name), or one .zip.
 */
export async function adapterFiles(flag: string, path: string): Promise<{ name: string; bytes: Uint8Array }[]> {
  const abs = resolve(path);
  const kind = await kindOf(abs);
  if (kind === null) throw new InputError(`${flag} ${path}: no such folder or .zip file`);
  if (kind === 'file') return [{ name: basename(abs), bytes: new Uint8Array(await readFile(abs)) }];
  const wanted = new Set([CONFIG_FILE, WEIGHTS_FILE, 'adapter_model.bin']);
  const names = (await readdir(abs)).filter((n) => wanted.has(n));
  return Promise.all(names.map(async (name) => ({ name, bytes: new Uint8Array(await readFile(join(abs, name))) })));
}

/**
 * Attaches `--adapter` to the loaded model with the page's import path (peft/: readAdapterFiles, then
 * importAdapter against the base model, then the engine), so a corrupt adapter or one that does not
 * fit the model is refused with the same named problems. Returns its method.
 */
export async function attachAdapter(model: LoadedModel, path: string, out: Reporter): Promise<AdapterMethod> {
  out.status('adapter', `Reading the adapter ${path}…`);
  const raw = await readAdapterFiles(await adapterFiles('--adapter', path), { base: model.base });
  const imported = importAdapter(raw, model.base);
  for (const w of imported.warnings) out.warning(w);
  model.engine.attach(imported.config.method);
  model.engine.importWeights(imported.tensors);
  return imported.config.method;
}

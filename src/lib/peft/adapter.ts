// Adapters in Hugging Face PEFT's file format: adapter_config.json + adapter_model.safetensors,
// as two files or one .zip. Export writes exactly what PEFT's save_pretrained writes (F32 tensors,
// metadata {"format": "pt"}, keys without the adapter name); import checks everything against the
// base model before a single weight is used, and names every problem. The adapter's name travels in
// adapter_model.safetensors's __metadata__ (next to PEFT's "format": "pt"; PEFT ignores other keys
// there), not in adapter_config.json, whose unknown keys older PEFT loaders refuse.
//
// Keys and shapes (tests/fixtures/README.md):
//   LoRA        base_model.model.<module>.lora_A.weight (r, in), ...lora_B.weight (out, r)
//   prefix      prompt_embeddings (P, L·2·NKV·HS); row p viewed as (L·2, NKV, HS), entry 2l is layer
//               l's key and 2l+1 its value
//   bottleneck  base_model.model.<attention or mlp block>.adapter.{down,up}.{weight,bias}:
//               down.weight (size, C), down.bias (size), up.weight (C, size), up.bias (C)

import { architectureFor } from '../model/architecture.ts';
import { showValue } from '../show.ts';
import { trainableDef } from '../adapters/trainable.ts';
import { allLinears, isLoraTarget, projectionNames } from '../adapters/lora.ts';
import {
  parseSafetensors,
  SafetensorsError,
  tensorBytes,
  tensorToFloat32,
  writeSafetensors,
  type TensorToWrite,
} from '../model/safetensors';
import { adapterConfigJson, type AdapterConfigFile, type AdapterMethod, type BaseModel, PeftError, parseAdapterConfig } from './config';
import { listZip, looksLikeZip, readZipEntry, writeZip, ZipError, type EntryLimit } from './zip';

export const CONFIG_FILE = 'adapter_config.json';
export const WEIGHTS_FILE = 'adapter_model.safetensors';
/** The __metadata__ key of adapter_model.safetensors that keeps the adapter's name. */
export const NAME_METADATA_KEY = 'name';

export interface AdapterTensor {
  shape: number[];
  data: Float32Array;
}

export type AdapterTensors = Map<string, AdapterTensor>;

const fmtShape = (s: readonly number[]) => `[${s.length > 16 ? `${s.slice(0, 16).join(', ')}, … (${s.length} dimensions)` : s.join(', ')}]`;
/** A tensor name as a message quotes it: as it is, but not at any length. */
const cut = (key: string) => (key.length > 200 ? `${key.slice(0, 200)}…` : key);

/**
 * The tensors an adapter of this method must hold for this base model, key → shape: exactly the
 * trainable parameters the engine would create for it (adapters/trainable.ts), so import, export and
 * training agree by construction. Throws a PeftError when the config itself does not fit the base.
 */
export function expectedAdapterTensors(file: Pick<AdapterConfigFile, 'method' | 'prefixShape'>, base: BaseModel): Map<string, number[]> {
  const cfg = base.config;
  const problems: string[] = [];
  const { method } = file;
  if (method.peft_type === 'LORA' && method.layers_to_transform) {
    const bad = method.layers_to_transform.filter((l) => l >= cfg.layers);
    if (bad.length) problems.push(`layers_to_transform ${showValue(bad)} name layers the base model (${cfg.layers} layers) does not have`);
  }
  const p = file.prefixShape;
  if (p) {
    if (p.num_layers !== cfg.layers) problems.push(`num_layers is ${p.num_layers} but ${base.name} has ${cfg.layers} layers`);
    if (p.num_attention_heads !== cfg.kvHeads) problems.push(`num_attention_heads is ${p.num_attention_heads} but ${base.name} has ${cfg.kvHeads} key/value heads`);
    if (p.token_dim !== cfg.kvHeads * cfg.headDim) {
      problems.push(`token_dim is ${p.token_dim} but ${base.name}'s keys are ${cfg.kvHeads * cfg.headDim} wide (${cfg.kvHeads} heads × ${cfg.headDim})`);
    }
  }
  const arch = architectureFor(cfg);
  if (method.peft_type === 'LORA' && !problems.length && !allLinears(arch).some((lin) => isLoraTarget(method, lin.module, lin.layer))) {
    problems.push(`target_modules ${showValue(method.target_modules)} match no module of ${base.name} (its projections: ${projectionNames(arch).join(', ')})`);
  }
  if (problems.length) throw new PeftError(`adapter_config.json does not fit ${base.name}`, problems);
  return new Map(trainableDef(arch, method).specs.map((s) => [s.name, s.shape]));
}

/** Lists problems, at most `max` of them, then how many more. */
function capped(problems: string[], max = 12): string[] {
  return problems.length <= max ? problems : [...problems.slice(0, max), `… and ${problems.length - max} more`];
}

/** Explains why a key that the base/config does not expect is there. */
function whyUnexpected(key: string, method: AdapterMethod, base: BaseModel): string {
  const L = base.config.layers;
  const layer = /\.(?:layers|h)\.(\d+)\./.exec(key);
  if (layer && Number(layer[1]) >= L) return `tensor "${cut(key)}" is for layer ${layer[1]}, but ${base.name} has ${L} layers (0–${L - 1})`;
  if (method.peft_type === 'LORA') {
    const m = /^base_model\.model\.(.+)\.lora_[AB]\.weight$/.exec(key);
    if (!m) return `tensor "${cut(key)}" is not a LoRA weight (expected base_model.model.<module>.lora_A.weight / lora_B.weight)`;
    if (!allLinears(architectureFor(base.config)).some((l) => l.module === m[1])) return `tensor "${cut(key)}": ${base.name} has no module "${cut(m[1])}"`;
    if (method.layers_to_transform && layer && !method.layers_to_transform.includes(Number(layer[1]))) {
      return `tensor "${cut(key)}": layer ${layer[1]} is not in layers_to_transform ${showValue(method.layers_to_transform)}`;
    }
    return `tensor "${cut(key)}": module "${cut(m[1])}" is not in target_modules ${showValue(method.target_modules)}`;
  }
  return `tensor "${cut(key)}" does not belong to a ${method.peft_type} adapter for ${base.name}`;
}

/** Checks tensors against the expected keys and shapes, and that every value is finite. */
function checkTensors(tensors: AdapterTensors, expected: Map<string, number[]>, method: AdapterMethod, base: BaseModel): string[] {
  const problems: string[] = [];
  for (const [key, shape] of expected) {
    const t = tensors.get(key);
    if (!t) {
      problems.push(`tensor "${cut(key)}" is missing (shape ${fmtShape(shape)} expected)`);
      continue;
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      let why = '';
      if (method.peft_type === 'LORA' && key.endsWith('lora_A.weight')) why = ` (r = ${method.r} × the module's input width)`;
      if (method.peft_type === 'LORA' && key.endsWith('lora_B.weight')) why = ` (the module's output width × r = ${method.r})`;
      problems.push(`tensor "${cut(key)}" has shape ${fmtShape(t.shape)}, but ${base.name} needs ${fmtShape(shape)}${why}`);
      continue;
    }
    const n = shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) {
      problems.push(`tensor "${cut(key)}" holds ${t.data.length} values, its shape ${fmtShape(shape)} needs ${n}`);
      continue;
    }
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i])) {
        problems.push(`tensor "${cut(key)}" holds a non-finite value (${t.data[i]}) at element ${i}`);
        break;
      }
    }
  }
  for (const key of tensors.keys()) if (!expected.has(key)) problems.push(whyUnexpected(key, method, base));
  return problems;
}

export interface ExportedAdapter {
  /** adapter_config.json text */
  configJson: string;
  /** adapter_model.safetensors bytes */
  weights: Uint8Array;
  /** The two files, named as PEFT names them. */
  files: { name: string; data: Uint8Array }[];
  /** Both files in one store-only .zip. */
  zip(modified?: Date): Uint8Array;
}

/** Writes an adapter in PEFT's format, after checking its tensors against the base model (so what is exported imports back). */
export function exportAdapter(method: AdapterMethod, tensors: AdapterTensors | Record<string, AdapterTensor>, base: BaseModel): ExportedAdapter {
  const map: AdapterTensors = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  const problems = checkTensors(map, expectedAdapterTensors({ method, prefixShape: null }, base), method, base);
  if (problems.length) throw new PeftError('cannot export this adapter', capped(problems));
  const toWrite: Record<string, TensorToWrite> = {};
  for (const [key, t] of map) toWrite[key] = { dtype: 'F32', shape: t.shape, data: t.data };
  const configJson = adapterConfigJson(method, base);
  // PEFT saves with safetensors' save_file(..., metadata={"format": "pt"}).
  const weights = writeSafetensors(toWrite, { format: 'pt' });
  const files = [
    { name: CONFIG_FILE, data: new TextEncoder().encode(configJson) },
    { name: WEIGHTS_FILE, data: weights },
  ];
  return { configJson, weights, files, zip: (modified?: Date) => writeZip(files, modified) };
}

/**
 * The same adapter_model.safetensors with `name` kept in its __metadata__ (other metadata, PEFT's
 * "format": "pt" among it, and every tensor's bytes unchanged). Throws a PeftError for a corrupt file.
 */
export function nameAdapterWeights(weights: Uint8Array, name: string): Uint8Array {
  let st;
  try {
    st = parseSafetensors(weights, { source: WEIGHTS_FILE });
  } catch (e) {
    if (e instanceof SafetensorsError) throw new PeftError('cannot name this adapter', [e.message]);
    throw e;
  }
  const tensors = new Map<string, TensorToWrite>(st.tensors.map((t) => [t.name, { dtype: t.dtype, shape: t.shape, data: tensorBytes(st, t.name) }]));
  return writeSafetensors(tensors, { ...st.metadata, [NAME_METADATA_KEY]: name });
}

export interface AdapterFiles {
  /** adapter_config.json text */
  config: string;
  /** adapter_model.safetensors bytes */
  weights: Uint8Array;
}

const baseName = (path: string) => path.split(/[\\/]/).pop() ?? path;

/** Largest adapter_config.json read from a .zip (PEFT's are under 2 KB). */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Room for adapter_model.safetensors's header in the weights limit: its JSON, about 150 bytes per tensor, plus metadata. */
const HEADER_ROOM = 1024 * 1024;
/** Widest float dtype an adapter may store (F64), in bytes per value. */
const WIDEST_FLOAT_BYTES = 8;

/**
 * The most bytes adapter_model.safetensors can hold for this adapter_config.json on this base model:
 * every tensor the config calls for at 8 bytes a value (F64, the widest float accepted), plus room
 * for the header. A .zip entry declaring more is refused before it is inflated. Throws the config's
 * PeftError when it does not parse or does not fit the base.
 */
export function adapterWeightsLimit(configText: string, base: BaseModel): EntryLimit {
  const config = parseAdapterConfig(configText);
  const expected = expectedAdapterTensors(config, base);
  let values = 0;
  for (const shape of expected.values()) values += shape.reduce((a, b) => a * b, 1);
  return {
    bytes: values * WIDEST_FLOAT_BYTES + HEADER_ROOM,
    why: `the most a ${config.method.peft_type} adapter of this adapter_config.json for ${base.name} can hold: ${expected.size} tensors, ${values.toLocaleString('en-US')} values, as F64, plus its header`,
  };
}

/** The fixed limit on adapter_model.safetensors in a .zip when no base model is known to size it. */
export const MAX_ADAPTER_WEIGHTS_BYTES = 256 * 1024 * 1024;

/**
 * A dropped file, or an entry of a dropped .zip read on demand (so only the two adapter files are ever
 * inflated, each within its limit; `limit` is asked for only then).
 */
interface Candidate {
  name: string;
  read(limit: () => EntryLimit): Promise<Uint8Array>;
}

/**
 * Finds adapter_config.json and adapter_model.safetensors among dropped files: either the two files,
 * or one .zip holding them (at any folder depth; macOS's __MACOSX entries are ignored). From a .zip
 * only these two are inflated, each within a limit: adapter_config.json to MAX_CONFIG_BYTES, and
 * adapter_model.safetensors to what the config can need on `opts.base` (adapterWeightsLimit), or to
 * MAX_ADAPTER_WEIGHTS_BYTES without a base.
 */
export async function readAdapterFiles(files: { name: string; bytes: Uint8Array }[], opts: { base?: BaseModel } = {}): Promise<AdapterFiles> {
  let candidates: Candidate[] = files.map((f) => ({ name: f.name, read: async () => f.bytes }));
  const zip = files.length === 1 && (files[0].name.toLowerCase().endsWith('.zip') || looksLikeZip(files[0].bytes)) ? files[0] : null;
  const fromZip = async <T>(work: () => Promise<T> | T): Promise<T> => {
    try {
      return await work();
    } catch (e) {
      if (e instanceof ZipError) throw new PeftError(zip!.name, [e.message]);
      throw e;
    }
  };
  if (zip) {
    const entries = await fromZip(() => listZip(zip.bytes));
    candidates = entries
      .filter((e) => !e.name.startsWith('__MACOSX/'))
      .map((e) => ({ name: e.name, read: (limit: () => EntryLimit) => fromZip(() => readZipEntry(zip.bytes, e, limit())) }));
  }
  const find = (want: string) => {
    const hits = candidates.filter((f) => baseName(f.name) === want);
    if (hits.length > 1) throw new PeftError('adapter files', [`${want} appears ${hits.length} times (${hits.map((h) => h.name).join(', ')}); give one adapter at a time`]);
    return hits[0];
  };
  const cfg = find(CONFIG_FILE);
  const weights = find(WEIGHTS_FILE);
  const problems: string[] = [];
  if (!cfg) problems.push(`${CONFIG_FILE} is missing`);
  if (!weights) {
    const bin = candidates.find((f) => baseName(f.name) === 'adapter_model.bin');
    problems.push(
      bin
        ? 'adapter_model.bin (PyTorch pickle) is not supported: save the adapter with safe_serialization=True to get adapter_model.safetensors'
        : `${WEIGHTS_FILE} is missing`,
    );
  }
  if (problems.length) {
    const got = candidates.map((f) => f.name).join(', ') || 'nothing';
    throw new PeftError('adapter files', [...problems, `found: ${got}`]);
  }
  const configBytes = await cfg!.read(() => ({ bytes: MAX_CONFIG_BYTES, why: `an ${CONFIG_FILE} is a few hundred bytes` }));
  let configText: string;
  try {
    configText = new TextDecoder('utf-8', { fatal: true }).decode(configBytes).replace(/^\ufeff/, '');
  } catch {
    throw new PeftError(CONFIG_FILE, ['is not UTF-8 text']);
  }
  const limit = (): EntryLimit =>
    opts.base ? adapterWeightsLimit(configText, opts.base) : { bytes: MAX_ADAPTER_WEIGHTS_BYTES, why: 'the largest adapter read without a base model to size it' };
  return { config: configText, weights: await weights!.read(limit) };
}

/**
 * Whether two saved adapters are the same adapter: the same method and settings in adapter_config.json
 * and the same tensors (names, dtypes, shapes and bytes), whatever else differs — the name kept in
 * the weights' metadata, the order of the header, formatting or fields that change nothing. Either
 * failing to parse makes them different.
 */
export function sameAdapter(a: { configJson: string; weights: Uint8Array }, b: { configJson: string; weights: Uint8Array }): boolean {
  try {
    const ca = parseAdapterConfig(a.configJson);
    const cb = parseAdapterConfig(b.configJson);
    if (JSON.stringify(ca.method) !== JSON.stringify(cb.method) || JSON.stringify(ca.prefixShape) !== JSON.stringify(cb.prefixShape)) return false;
    const sa = parseSafetensors(a.weights);
    const sb = parseSafetensors(b.weights);
    if (sa.tensors.length !== sb.tensors.length) return false;
    for (const t of sa.tensors) {
      const u = sb.byName.get(t.name);
      if (!u || u.dtype !== t.dtype || u.shape.length !== t.shape.length || u.shape.some((d, i) => d !== t.shape[i])) return false;
      const x = tensorBytes(sa, t.name);
      const y = tensorBytes(sb, t.name);
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    }
    return true;
  } catch (e) {
    if (e instanceof PeftError || e instanceof SafetensorsError) return false;
    throw e;
  }
}

export interface ImportedAdapter {
  config: AdapterConfigFile;
  /** The name it was exported with (adapter_model.safetensors's __metadata__), or null when it has none. */
  name: string | null;
  /** PEFT key → float32 tensor, exactly the keys the config and base model call for. */
  tensors: AdapterTensors;
  /** Things that do not stop the import (e.g. a different base_model_name_or_path). */
  warnings: string[];
}

/** PEFT keys sometimes carry the adapter name (".default") when saved by hand; drop it. */
function normalizeKey(key: string): string {
  return key.replace(/\.(lora_[AB])\.default\.weight$/, '.$1.weight');
}

/**
 * Validates and loads an adapter for a base model. Throws a PeftError listing every problem:
 * config fields, a safetensors file that is corrupt (header size, offsets, dtype sizes), missing
 * or unexpected tensors, wrong shapes, non-float dtypes, non-finite values.
 */
export function importAdapter(files: AdapterFiles, base: BaseModel): ImportedAdapter {
  const config = parseAdapterConfig(files.config);
  const warnings: string[] = [];
  if (config.baseModel && config.baseModel !== base.name) {
    warnings.push(
      `this adapter was trained on "${config.baseModel}" and is loaded onto "${base.name}": the shapes fit, but the results may not be what its author saw`,
    );
  }
  const conv1d = base.config.family === 'gpt2';
  if (config.method.peft_type === 'LORA' && config.fanInFanOut !== conv1d) {
    warnings.push(`fan_in_fan_out is ${config.fanInFanOut}, but ${base.name} ${conv1d ? 'uses' : 'does not use'} Conv1D layers; the adapter shapes are the same, so it is ignored`);
  }
  const expected = expectedAdapterTensors(config, base);

  let st;
  try {
    st = parseSafetensors(files.weights, { source: WEIGHTS_FILE });
  } catch (e) {
    if (e instanceof SafetensorsError) throw new PeftError('cannot import this adapter', [e.message]);
    throw e;
  }
  const problems: string[] = [];
  const tensors: AdapterTensors = new Map();
  for (const info of st.tensors) {
    const key = normalizeKey(info.name);
    if (info.dtype !== 'F32' && info.dtype !== 'F16' && info.dtype !== 'BF16' && info.dtype !== 'F64') {
      problems.push(`tensor "${cut(info.name)}" has dtype ${info.dtype}; adapter weights must be floating point (F32, F16, BF16)`);
      continue;
    }
    if (tensors.has(key)) {
      problems.push(`tensor "${cut(key)}" appears twice`);
      continue;
    }
    // Only a tensor the adapter needs, in the shape it needs, is converted: an unexpected or misshapen
    // one is reported by its key and shape (checkTensors) without allocating its values.
    const want = expected.get(key);
    const fits = want !== undefined && want.length === info.shape.length && want.every((d, i) => d === info.shape[i]);
    tensors.set(key, { shape: info.shape.slice(), data: fits ? tensorToFloat32(st, info.name) : new Float32Array(0) });
  }
  problems.push(...checkTensors(tensors, expected, config.method, base));
  if (problems.length) throw new PeftError('cannot import this adapter', capped(problems));
  const name = st.metadata[NAME_METADATA_KEY]?.trim() || null;
  return { config, name, tensors, warnings };
}

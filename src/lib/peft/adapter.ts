// Adapters in Hugging Face PEFT's file format: adapter_config.json + adapter_model.safetensors,
// as two files or one .zip. Export writes exactly what PEFT's save_pretrained writes (F32 tensors,
// metadata {"format": "pt"}, keys without the adapter name); import checks everything against the
// base model before a single weight is used, and names every problem.
//
// Keys and shapes (tests/fixtures/README.md):
//   LoRA        base_model.model.<module>.lora_A.weight (r, in), ...lora_B.weight (out, r)
//   prefix      prompt_embeddings (P, L·2·NKV·HS); row p viewed as (L·2, NKV, HS), entry 2l is layer
//               l's key and 2l+1 its value
//   bottleneck  base_model.model.<attention or mlp block>.adapter.{down,up}.{weight,bias}:
//               down.weight (size, C), down.bias (size), up.weight (C, size), up.bias (C)

import {
  parseSafetensors,
  SafetensorsError,
  tensorToFloat32,
  writeSafetensors,
  type TensorToWrite,
} from '../model/safetensors';
import { type BaseModelShape, matchesTarget } from './base';
import { type PeftConfig, PeftError, parsePeftConfig, serializePeftConfig } from './config';
import { looksLikeZip, readZip, writeZip, ZipError } from './zip';

export const PEFT_PREFIX = 'base_model.model.';
export const PREFIX_KEY = 'prompt_embeddings';
export const CONFIG_FILE = 'adapter_config.json';
export const WEIGHTS_FILE = 'adapter_model.safetensors';

export function loraKey(modulePath: string, which: 'A' | 'B'): string {
  return `${PEFT_PREFIX}${modulePath}.lora_${which}.weight`;
}

export function bottleneckKey(blockPath: string, part: 'down' | 'up', param: 'weight' | 'bias'): string {
  return `${PEFT_PREFIX}${blockPath}.adapter.${part}.${param}`;
}

export interface AdapterTensor {
  shape: number[];
  data: Float32Array;
}

export type AdapterTensors = Map<string, AdapterTensor>;

const fmtShape = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * The tensors an adapter with this config must hold for this base model, key → shape. Throws a
 * PeftError when the config itself does not fit the base (wrong layer count, no matching module).
 */
export function expectedAdapterTensors(cfg: PeftConfig, base: BaseModelShape): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const problems: string[] = [];
  switch (cfg.peft_type) {
    case 'LORA': {
      const layers = cfg.layers_to_transform;
      if (layers) {
        const bad = layers.filter((l) => l >= base.layers);
        if (bad.length) problems.push(`layers_to_transform ${JSON.stringify(bad)} name layers the base model (${base.layers} layers) does not have`);
      }
      for (const m of base.linears) {
        if (!matchesTarget(cfg.target_modules, m.path)) continue;
        if (layers && !layers.includes(m.layer)) continue;
        out.set(loraKey(m.path, 'A'), [cfg.r, m.in]);
        out.set(loraKey(m.path, 'B'), [m.out, cfg.r]);
      }
      if (out.size === 0 && problems.length === 0) {
        const names = [...new Set(base.linears.map((m) => m.path.split('.').pop()))].join(', ');
        problems.push(`target_modules ${JSON.stringify(cfg.target_modules)} match no module of ${base.name} (its projections: ${names})`);
      }
      break;
    }
    case 'PREFIX_TUNING': {
      if (cfg.num_layers !== base.layers) problems.push(`num_layers is ${cfg.num_layers} but ${base.name} has ${base.layers} layers`);
      if (cfg.num_attention_heads !== base.kvHeads) {
        problems.push(`num_attention_heads is ${cfg.num_attention_heads} but ${base.name} has ${base.kvHeads} key/value heads`);
      }
      if (cfg.token_dim !== base.kvDim) {
        problems.push(`token_dim is ${cfg.token_dim} but ${base.name}'s keys are ${base.kvDim} wide (${base.kvHeads} heads × ${base.headDim})`);
      }
      out.set(PREFIX_KEY, [cfg.num_virtual_tokens, cfg.num_layers * 2 * cfg.token_dim]);
      break;
    }
    case 'BOTTLENECK': {
      const C = base.hidden;
      const S = cfg.bottleneck_size;
      for (const b of base.blocks) {
        for (const place of cfg.placement) {
          const path = place === 'self_attn' ? b.attn : b.mlp;
          out.set(bottleneckKey(path, 'down', 'weight'), [S, C]);
          out.set(bottleneckKey(path, 'down', 'bias'), [S]);
          out.set(bottleneckKey(path, 'up', 'weight'), [C, S]);
          out.set(bottleneckKey(path, 'up', 'bias'), [C]);
        }
      }
      break;
    }
  }
  if (problems.length) throw new PeftError(`adapter_config.json does not fit ${base.name}`, problems);
  return out;
}

/** Lists problems, at most `max` of them, then how many more. */
function capped(problems: string[], max = 12): string[] {
  return problems.length <= max ? problems : [...problems.slice(0, max), `… and ${problems.length - max} more`];
}

/** Explains why a key that the base/config does not expect is there. */
function whyUnexpected(key: string, cfg: PeftConfig, base: BaseModelShape): string {
  const layer = /\.(?:layers|h)\.(\d+)\./.exec(key);
  if (layer && Number(layer[1]) >= base.layers) return `tensor "${key}" is for layer ${layer[1]}, but ${base.name} has ${base.layers} layers (0–${base.layers - 1})`;
  if (cfg.peft_type === 'LORA') {
    const m = /^base_model\.model\.(.+)\.lora_[AB]\.weight$/.exec(key);
    if (!m) return `tensor "${key}" is not a LoRA weight (expected base_model.model.<module>.lora_A.weight / lora_B.weight)`;
    if (!base.linears.some((l) => l.path === m[1])) return `tensor "${key}": ${base.name} has no module "${m[1]}"`;
    return `tensor "${key}": module "${m[1]}" is not in target_modules ${JSON.stringify(cfg.target_modules)}`;
  }
  return `tensor "${key}" does not belong to a ${cfg.peft_type} adapter for ${base.name}`;
}

/** Checks tensors against the expected keys and shapes, and that every value is finite. */
function checkTensors(
  tensors: AdapterTensors,
  expected: Map<string, number[]>,
  cfg: PeftConfig,
  base: BaseModelShape,
): string[] {
  const problems: string[] = [];
  for (const [key, shape] of expected) {
    const t = tensors.get(key);
    if (!t) {
      problems.push(`tensor "${key}" is missing (shape ${fmtShape(shape)} expected)`);
      continue;
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      let why = '';
      if (cfg.peft_type === 'LORA' && key.endsWith('lora_A.weight')) why = ` (r = ${cfg.r} × the module's input width)`;
      if (cfg.peft_type === 'LORA' && key.endsWith('lora_B.weight')) why = ` (the module's output width × r = ${cfg.r})`;
      problems.push(`tensor "${key}" has shape ${fmtShape(t.shape)}, but ${base.name} needs ${fmtShape(shape)}${why}`);
      continue;
    }
    const n = shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) {
      problems.push(`tensor "${key}" holds ${t.data.length} values, its shape ${fmtShape(shape)} needs ${n}`);
      continue;
    }
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i])) {
        problems.push(`tensor "${key}" holds a non-finite value (${t.data[i]}) at element ${i}`);
        break;
      }
    }
  }
  for (const key of tensors.keys()) if (!expected.has(key)) problems.push(whyUnexpected(key, cfg, base));
  return problems;
}

export interface ExportedAdapter {
  config: PeftConfig;
  /** adapter_config.json text */
  configJson: string;
  /** adapter_model.safetensors bytes */
  weights: Uint8Array;
  /** The two files, named as PEFT names them. */
  files: { name: string; data: Uint8Array }[];
  /** Both files in one store-only .zip. */
  zip(modified?: Date): Uint8Array;
}

/**
 * Writes an adapter in PEFT's format. With `base`, the tensors are first checked against it (so
 * what is exported imports back); without it only their sizes and values are checked.
 */
export function exportAdapter(
  config: PeftConfig,
  tensors: AdapterTensors | Record<string, AdapterTensor>,
  base?: BaseModelShape,
): ExportedAdapter {
  const map: AdapterTensors = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  // Round-trip the config through the validator: only what PEFT (or our BOTTLENECK) accepts is written.
  const cfg = parsePeftConfig(JSON.parse(serializePeftConfig(config)));
  if (base) {
    const problems = checkTensors(map, expectedAdapterTensors(cfg, base), cfg, base);
    if (problems.length) throw new PeftError('cannot export this adapter', capped(problems));
  }
  const toWrite: Record<string, TensorToWrite> = {};
  for (const [key, t] of map) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new PeftError('cannot export this adapter', [`tensor "${key}" holds ${t.data.length} values, its shape ${fmtShape(t.shape)} needs ${n}`]);
    toWrite[key] = { dtype: 'F32', shape: t.shape, data: t.data };
  }
  const configJson = serializePeftConfig(cfg);
  // PEFT saves with safetensors' save_file(..., metadata={"format": "pt"}).
  const weights = writeSafetensors(toWrite, { format: 'pt' });
  const configBytes = new TextEncoder().encode(configJson);
  const files = [
    { name: CONFIG_FILE, data: configBytes },
    { name: WEIGHTS_FILE, data: weights },
  ];
  return { config: cfg, configJson, weights, files, zip: (modified?: Date) => writeZip(files, modified) };
}

export interface AdapterFiles {
  /** adapter_config.json text */
  config: string;
  /** adapter_model.safetensors bytes */
  weights: Uint8Array;
}

const baseName = (path: string) => path.split(/[\\/]/).pop() ?? path;

/**
 * Finds adapter_config.json and adapter_model.safetensors among dropped files: either the two files,
 * or one .zip holding them (at any folder depth; macOS's __MACOSX entries are ignored).
 */
export async function readAdapterFiles(files: { name: string; bytes: Uint8Array }[]): Promise<AdapterFiles> {
  let candidates = files;
  if (files.length === 1 && (files[0].name.toLowerCase().endsWith('.zip') || looksLikeZip(files[0].bytes))) {
    try {
      const entries = await readZip(files[0].bytes);
      candidates = entries.filter((e) => !e.name.startsWith('__MACOSX/')).map((e) => ({ name: e.name, bytes: e.data }));
    } catch (e) {
      if (e instanceof ZipError) throw new PeftError(files[0].name, [e.message]);
      throw e;
    }
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
  let configText: string;
  try {
    configText = new TextDecoder('utf-8', { fatal: true }).decode(cfg!.bytes).replace(/^\ufeff/, '');
  } catch {
    throw new PeftError(CONFIG_FILE, ['is not UTF-8 text']);
  }
  return { config: configText, weights: weights!.bytes };
}

export interface ImportedAdapter {
  config: PeftConfig;
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
export function importAdapter(files: AdapterFiles, base: BaseModelShape): ImportedAdapter {
  const config = parsePeftConfig(files.config);
  const warnings: string[] = [];
  if (config.base_model_name_or_path && config.base_model_name_or_path !== base.name) {
    warnings.push(
      `this adapter was trained on "${config.base_model_name_or_path}" and is loaded onto "${base.name}": the shapes fit, but the results may not be what its author saw`,
    );
  }
  if (config.peft_type === 'LORA' && config.fan_in_fan_out !== base.conv1d) {
    warnings.push(`fan_in_fan_out is ${config.fan_in_fan_out}, but ${base.name} ${base.conv1d ? 'uses' : 'does not use'} Conv1D layers; the adapter shapes are the same, so it is ignored`);
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
      problems.push(`tensor "${info.name}" has dtype ${info.dtype}; adapter weights must be floating point (F32, F16, BF16)`);
      continue;
    }
    if (tensors.has(key)) {
      problems.push(`tensor "${key}" appears twice`);
      continue;
    }
    tensors.set(key, { shape: info.shape.slice(), data: tensorToFloat32(st, info.name) });
  }
  problems.push(...checkTensors(tensors, expected, config, base));
  if (problems.length) throw new PeftError('cannot import this adapter', capped(problems));
  return { config, tensors, warnings };
}

/** readAdapterFiles + importAdapter, for a drop of files or a .zip. */
export async function importAdapterFiles(files: { name: string; bytes: Uint8Array }[], base: BaseModelShape): Promise<ImportedAdapter> {
  return importAdapter(await readAdapterFiles(files), base);
}

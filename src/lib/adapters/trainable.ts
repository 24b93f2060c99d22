// The trainable parameters of a method: their names (PEFT keys, or Hugging Face names for full
// fine-tuning), shapes, initial values, and how they map onto the tensors of an exported file.
// All of them live in one ParamStore (one buffer unless it outgrows a binding), so AdamW is one
// dispatch over one flat array; gradients and both AdamW moments use the same layout.
import type { Architecture } from '../model/architecture.ts';
import { numel, type ParamSpec } from '../model/params.ts';
import { transpose2d } from '../model/weights.ts';
import { bottleneckInit, bottleneckSpecs } from './bottleneck.ts';
import { hasScoreHead, type MethodConfig } from './config.ts';
import { scoreInit, scoreSpecs } from './score.ts';
import { loraInit, loraSpecs } from './lora.ts';
import { prefixInit, prefixSpecs } from './prefix.ts';
import { createRng } from '../random.ts';

export interface TrainableDef {
  config: MethodConfig;
  specs: ParamSpec[];
  /**
   * Initial values by spec name, drawn from a generator seeded with `seed`. Full fine-tuning
   * returns nothing: its parameters start as a copy of the base weights, made on the GPU.
   */
  init(seed: number): Map<string, Float32Array>;
  /** The tensor as it is exported (PEFT adapter_model.safetensors / HF model.safetensors). */
  toExport(name: string, data: Float32Array): { key: string; shape: number[]; data: Float32Array };
  /** The inverse: a tensor from a file, to the engine's layout (null if the key is not ours). */
  fromExport(key: string, shape: number[], data: Float32Array): { name: string; data: Float32Array } | null;
}

/**
 * The method's parameters, plus the reward model's head after them when the method saves "score"
 * (modules_to_save): its values come from the same seeded generator, after the adapter's.
 */
export function trainableDef(arch: Architecture, config: MethodConfig): TrainableDef {
  const def = methodDef(arch, config);
  if (!hasScoreHead(config)) return def;
  const head = scoreSpecs(arch);
  const specs = [...def.specs, ...head];
  const ids = identityMaps(specs);
  return {
    config,
    specs,
    init: (seed) => {
      const values = def.init(seed);
      const rng = createRng((seed ^ 0x5c0e) >>> 0);
      for (const s of head) values.set(s.name, scoreInit(s, rng));
      return values;
    },
    toExport: (name, data) => (head.some((s) => s.name === name) ? ids.toExport(name, data) : def.toExport(name, data)),
    fromExport: (key, shape, data) => def.fromExport(key, shape, data) ?? ids.fromExport(key, shape, data),
  };
}

/** Spec names are the exported keys (every PEFT method): the same tensor both ways, shapes checked on import. */
function identityMaps(specs: ParamSpec[]): Pick<TrainableDef, 'toExport' | 'fromExport'> {
  const byName = new Map(specs.map((s) => [s.name, s]));
  return {
    toExport: (name: string, data: Float32Array) => ({ key: name, shape: [...byName.get(name)!.shape], data }),
    fromExport: (key: string, shape: number[], data: Float32Array) => {
      const s = byName.get(key);
      if (!s) return null;
      if (numel(shape) !== numel(s.shape) || shape.length !== s.shape.length || shape.some((d, i) => d !== s.shape[i])) {
        throw new Error(`${key}: shape [${shape}] does not match this model's [${s.shape}]`);
      }
      return { name: key, data };
    },
  };
}

function methodDef(arch: Architecture, config: MethodConfig): TrainableDef {
  const identity = identityMaps;
  const seeded = (specs: ParamSpec[], f: (s: ParamSpec, rng: () => number) => Float32Array) => (seed: number) => {
    const rng = createRng(seed);
    return new Map(specs.map((s) => [s.name, f(s, rng)]));
  };

  switch (config.peft_type) {
    case 'LORA': {
      const specs = loraSpecs(arch, config);
      return { config, specs, init: seeded(specs, loraInit), ...identity(specs) };
    }
    case 'BOTTLENECK': {
      const specs = bottleneckSpecs(arch, config);
      return { config, specs, init: seeded(specs, (s, rng) => bottleneckInit(s, arch.cfg.hidden, rng)), ...identity(specs) };
    }
    case 'PREFIX_TUNING': {
      const specs = prefixSpecs(arch, config);
      return { config, specs, init: seeded(specs, prefixInit), ...identity(specs) };
    }
    case 'FULL': {
      // Same specs as the base weights, all f32: the trainable store has an all-f32 base store's
      // exact layout and starts as a buffer-to-buffer copy of it (f16 base tensors are decoded).
      const specs = arch.params;
      const byName = new Map(specs.map((s) => [s.name, s]));
      const hfName = new Map(specs.map((s) => [arch.source(s.name).names[0], s.name]));
      return {
        config,
        specs,
        init: () => new Map(),
        toExport(name, data) {
          const s = byName.get(name)!;
          const { names, transposed } = arch.source(name);
          return transposed
            ? { key: names[0], shape: [s.shape[1], s.shape[0]], data: transpose2d(data, s.shape[0], s.shape[1]) }
            : { key: names[0], shape: [...s.shape], data };
        },
        fromExport(key, shape, data) {
          const name = hfName.get(key) ?? hfName.get(`transformer.${key}`);
          if (!name) return null;
          const s = byName.get(name)!;
          const { transposed } = arch.source(name);
          const want = transposed ? [s.shape[1], s.shape[0]] : s.shape;
          if (shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
            throw new Error(`${key}: shape [${shape}] does not match this model's [${want}]`);
          }
          return { name, data: transposed ? transpose2d(data, want[0], want[1]) : data };
        },
      };
    }
  }
}

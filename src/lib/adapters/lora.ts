// LoRA (Hu et al. 2021) with PEFT's semantics and names. For a targeted projection y = x·Wᵀ + b:
//   y = x·Wᵀ + b + scaling · (dropout(x)·Aᵀ)·Bᵀ,   A: (r,in), B: (out,r), scaling = alpha/r (alpha/√r rsLoRA)
// PEFT initialises A with kaiming_uniform_(a=√5) — U(-1/√in, 1/√in), since gain √(2/(1+5)) times
// √3/√in is 1/√in — and B with zeros, so an untrained adapter changes nothing.
// Keys: base_model.model.<module>.lora_A.weight / lora_B.weight.
//
// The module names come from the architecture (model/llama.ts, model/gpt2.ts): the one registry from
// which the PEFT keys, target matching and the shapes an imported adapter must have all follow.
import type { Architecture, LayerDef, LinearDef } from '../model/architecture.ts';
import type { ParamSpec } from '../model/params.ts';
import { isTargetModule, type LoraConfig } from './config.ts';

/** What PEFT puts before a module path in adapter_model.safetensors keys. */
export const PEFT_PREFIX = 'base_model.model.';

export function loraKeys(module: string): { A: string; B: string } {
  return { A: `${PEFT_PREFIX}${module}.lora_A.weight`, B: `${PEFT_PREFIX}${module}.lora_B.weight` };
}

/** Every projection of one layer (the modules LoRA can target). */
export function layerLinears(layer: LayerDef): LinearDef[] {
  return [layer.q, layer.k, layer.v, layer.o, ...layer.mlpIn, layer.mlpOut];
}

/** Every projection of the model, in layer order, with its layer. */
export function allLinears(arch: Architecture): (LinearDef & { layer: number })[] {
  return arch.layers.flatMap((l, layer) => layerLinears(l).map((lin) => ({ ...lin, layer })));
}

/** Short names of the model's projections, in layer order, once each ('q_proj', …): what target_modules lists. */
export function projectionNames(arch: Architecture): string[] {
  return [...new Set(allLinears(arch).map((lin) => lin.module.split('.').pop()!))];
}

export interface LoraModule {
  module: string;
  layer: number;
  in: number;
  /** the whole module's outputs (GPT-2's c_attn is 3C wide) */
  out: number;
  blocks: number;
}

/** Whether a projection gets a LoRA branch under this config. */
export function isLoraTarget(cfg: Pick<LoraConfig, 'target_modules' | 'layers_to_transform'>, module: string, layer: number): boolean {
  if (cfg.layers_to_transform && !cfg.layers_to_transform.includes(layer)) return false;
  return isTargetModule(cfg.target_modules, module);
}

/** The targeted modules, once each, in layer order. */
export function loraModules(arch: Architecture, cfg: LoraConfig): LoraModule[] {
  const seen = new Map<string, LoraModule>();
  for (const lin of allLinears(arch)) {
    if (seen.has(lin.module) || !isLoraTarget(cfg, lin.module, lin.layer)) continue;
    seen.set(lin.module, { module: lin.module, layer: lin.layer, in: lin.in, out: lin.out * lin.blocks, blocks: lin.blocks });
  }
  if (seen.size === 0) {
    const where = cfg.layers_to_transform ? ` in layers ${JSON.stringify(cfg.layers_to_transform)}` : '';
    throw new Error(
      `LoRA: target_modules ${JSON.stringify(cfg.target_modules)} match no projection of this model${where} (its projections: ${projectionNames(arch).join(', ')})`,
    );
  }
  return [...seen.values()];
}

export function loraSpecs(arch: Architecture, cfg: LoraConfig): ParamSpec[] {
  if (!(cfg.r >= 1 && Number.isInteger(cfg.r))) throw new Error(`LoRA: r must be a positive integer, got ${cfg.r}`);
  return loraModules(arch, cfg).flatMap(({ module, in: inF, out, blocks }) => {
    const { A, B } = loraKeys(module);
    return [
      { name: A, shape: [cfg.r, inF] },
      // B's rows are the module's outputs: for a fused module, one block per projection.
      blocks > 1 ? { name: B, shape: [out, cfg.r], chunkRows: out / blocks } : { name: B, shape: [out, cfg.r] },
    ];
  });
}

/** PEFT's initial values: A ~ U(-1/√in, 1/√in), B = 0. */
export function loraInit(spec: ParamSpec, rng: () => number): Float32Array {
  const n = spec.shape[0] * spec.shape[1];
  const out = new Float32Array(n);
  if (spec.name.endsWith('.lora_A.weight')) {
    const bound = 1 / Math.sqrt(spec.shape[1]);
    for (let i = 0; i < n; i++) out[i] = (2 * rng() - 1) * bound;
  }
  return out;
}

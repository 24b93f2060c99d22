// LoRA (Hu et al. 2021) with PEFT's semantics and names. For a targeted projection y = x·Wᵀ + b:
//   y = x·Wᵀ + b + scaling · (dropout(x)·Aᵀ)·Bᵀ,   A: (r,in), B: (out,r), scaling = alpha/r (alpha/√r rsLoRA)
// PEFT initialises A with kaiming_uniform_(a=√5) — U(-1/√in, 1/√in), since gain √(2/(1+5)) times
// √3/√in is 1/√in — and B with zeros, so an untrained adapter changes nothing.
// Keys: base_model.model.<module>.lora_A.weight / lora_B.weight.
import type { Architecture, LinearDef } from '../model/architecture.ts';
import type { ParamSpec } from '../model/params.ts';
import { isTargetModule, type LoraConfig } from './config.ts';

export const PEFT_PREFIX = 'base_model.model.';

export function loraKeys(module: string): { A: string; B: string } {
  return { A: `${PEFT_PREFIX}${module}.lora_A.weight`, B: `${PEFT_PREFIX}${module}.lora_B.weight` };
}

/** Every projection of the model, in layer order (the modules LoRA can target). */
export function allLinears(arch: Architecture): LinearDef[] {
  return arch.layers.flatMap((l) => [l.q, l.k, l.v, l.o, ...l.mlpIn, l.mlpOut]);
}

/** The targeted modules, once each, with the shape of the whole module (GPT-2's c_attn is 3C wide). */
export function loraModules(arch: Architecture, cfg: LoraConfig): { module: string; in: number; out: number; blocks: number }[] {
  const seen = new Map<string, { module: string; in: number; out: number; blocks: number }>();
  for (const lin of allLinears(arch)) {
    if (!isTargetModule(cfg.targetModules, lin.module)) continue;
    const m = seen.get(lin.module);
    if (m) continue;
    seen.set(lin.module, { module: lin.module, in: lin.in, out: lin.out * lin.blocks, blocks: lin.blocks });
  }
  if (seen.size === 0) {
    throw new Error(`LoRA: target_modules ${JSON.stringify(cfg.targetModules)} match no projection of this model`);
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

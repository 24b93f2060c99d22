// Bottleneck adapters (Houlsby et al. 2019) on a sublayer's output y (B,T,C):
//   y ← y + up(act(down(y))),   down: (size,C) + bias (size),   up: (C,size) + bias (C)
// after the attention output projection and/or after the MLP's output projection of every layer.
// down starts as nn.Linear does (weight and bias U(-1/√C, 1/√C)); up starts at zero, so an
// untrained adapter is the identity.
// Keys: base_model.model.<attention or mlp module>.adapter.{down,up}.{weight,bias}.
import type { Architecture } from '../model/architecture.ts';
import type { ParamSpec } from '../model/params.ts';
import type { BottleneckConfig, BottleneckPlacement } from './config.ts';
import { PEFT_PREFIX } from './lora.ts';

export function bottleneckKeys(module: string) {
  const p = `${PEFT_PREFIX}${module}.adapter`;
  return { downW: `${p}.down.weight`, downB: `${p}.down.bias`, upW: `${p}.up.weight`, upB: `${p}.up.bias` };
}

/** The modules whose output gets an adapter, in layer order. */
export function bottleneckModules(arch: Architecture, cfg: BottleneckConfig): string[] {
  const after = (p: BottleneckPlacement) => cfg.placement.includes(p);
  return arch.layers.flatMap((l) => [...(after('self_attn') ? [l.attnModule] : []), ...(after('mlp') ? [l.mlpModule] : [])]);
}

export function bottleneckSpecs(arch: Architecture, cfg: BottleneckConfig): ParamSpec[] {
  const S = cfg.bottleneck_size;
  if (!(S >= 1 && Number.isInteger(S))) throw new Error(`bottleneck: bottleneck_size must be a positive integer, got ${S}`);
  if (cfg.placement.length === 0) throw new Error('bottleneck: place it after attention, the MLP or both');
  const C = arch.cfg.hidden;
  return bottleneckModules(arch, cfg).flatMap((m) => {
    const k = bottleneckKeys(m);
    return [
      { name: k.downW, shape: [S, C] },
      { name: k.downB, shape: [S] },
      { name: k.upW, shape: [C, S] },
      { name: k.upB, shape: [C] },
    ];
  });
}

/** Initial values: down like nn.Linear(C, size) — weight and bias U(-1/√C, 1/√C) — and up zero. */
export function bottleneckInit(spec: ParamSpec, C: number, rng: () => number): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  if (spec.name.includes('.adapter.down.')) {
    const bound = 1 / Math.sqrt(C);
    for (let i = 0; i < n; i++) out[i] = (2 * rng() - 1) * bound;
  }
  return out;
}

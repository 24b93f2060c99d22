// Prefix tuning (Li & Liang 2021) as PEFT stores it (PREFIX_TUNING without prefix_projection):
// one trainable tensor prompt_embeddings (P, L·2·NKV·HS). Row p viewed as (L·2, NKV, HS): entry 2l is
// layer l's key for virtual position p, entry 2l+1 its value. Every query of layer l attends to the P
// prefix keys (used as given, no RoPE) before the causal keys of the real tokens, which take
// positions P..P+T-1. PEFT's PrefixEncoder is an nn.Embedding, initialised N(0, 1).
// The attention kernels read the keys and values in place (an offset and a row stride), so the
// engine keeps exactly PEFT's layout.
import type { Architecture } from '../model/architecture.ts';
import type { ParamSpec } from '../model/params.ts';
import type { PrefixTuningConfig } from './config.ts';

export const PREFIX_KEY = 'prompt_embeddings';

export function prefixSpecs(arch: Architecture, cfg: PrefixTuningConfig): ParamSpec[] {
  const P = cfg.num_virtual_tokens;
  if (!(P >= 1 && Number.isInteger(P))) throw new Error(`prefix: num_virtual_tokens must be a positive integer, got ${P}`);
  const { layers: L, kvHeads: NKV, headDim: HS } = arch.cfg;
  return [{ name: PREFIX_KEY, shape: [P, L * 2 * NKV * HS] }];
}

/** Layer l's keys start at element 2l·NKV·HS of each row (values NKV·HS later); rows are L·2·NKV·HS apart. */
export function prefixLayerOffset(arch: Architecture, layer: number): { offset: number; stride: number } {
  const { layers: L, kvHeads: NKV, headDim: HS } = arch.cfg;
  return { offset: 2 * layer * NKV * HS, stride: L * 2 * NKV * HS };
}

/** N(0,1), like nn.Embedding. */
export function prefixInit(spec: ParamSpec, rng: () => number): Float32Array {
  const n = spec.shape[0] * spec.shape[1];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(rng(), 1e-12);
    const v = rng();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

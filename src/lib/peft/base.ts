// What an adapter must fit: the base model's layers, widths and module paths, in Hugging Face names
// (the names PEFT matches target_modules against and builds adapter keys from).
//
//   Llama family (LlamaForCausalLM, Qwen2ForCausalLM):
//     model.layers.{i}.self_attn.{q,k,v,o}_proj, model.layers.{i}.mlp.{gate,up,down}_proj
//   GPT-2 (GPT2LMHeadModel; Conv1D layers, weights stored (in,out), so PEFT uses fan_in_fan_out):
//     transformer.h.{i}.attn.c_attn (C → 3C), transformer.h.{i}.attn.c_proj, transformer.h.{i}.mlp.{c_fc,c_proj}

import type { ModelConfig } from '../model/config';

export interface LinearModule {
  /** Module path without PEFT's `base_model.model.` prefix, e.g. model.layers.0.self_attn.q_proj */
  path: string;
  layer: number;
  in: number;
  out: number;
}

export interface BaseModelShape {
  /** What adapter_config.json's base_model_name_or_path should say. */
  name: string;
  family: 'llama' | 'gpt2';
  layers: number;
  /** C */
  hidden: number;
  /** NKV · HS: the width of one layer's keys (prefix tuning's token_dim) */
  kvDim: number;
  kvHeads: number;
  headDim: number;
  /** Every projection LoRA can target (lm_head excluded, as PEFT's 'all-linear' excludes it). */
  linears: LinearModule[];
  /** Per layer: the attention and MLP module paths bottleneck adapters follow. */
  blocks: { attn: string; mlp: string }[];
  /** GPT-2's Conv1D: PEFT writes fan_in_fan_out true. */
  conv1d: boolean;
}

export function baseShapeFromConfig(cfg: ModelConfig, name: string): BaseModelShape {
  const C = cfg.hidden;
  const HS = cfg.headDim;
  const qDim = cfg.heads * HS;
  const kvDim = cfg.kvHeads * HS;
  const I = cfg.intermediate;
  const linears: LinearModule[] = [];
  const blocks: { attn: string; mlp: string }[] = [];
  for (let i = 0; i < cfg.layers; i++) {
    if (cfg.family === 'gpt2') {
      const p = `transformer.h.${i}`;
      linears.push(
        { path: `${p}.attn.c_attn`, layer: i, in: C, out: 3 * C },
        { path: `${p}.attn.c_proj`, layer: i, in: C, out: C },
        { path: `${p}.mlp.c_fc`, layer: i, in: C, out: I },
        { path: `${p}.mlp.c_proj`, layer: i, in: I, out: C },
      );
      blocks.push({ attn: `${p}.attn`, mlp: `${p}.mlp` });
    } else {
      const p = `model.layers.${i}`;
      linears.push(
        { path: `${p}.self_attn.q_proj`, layer: i, in: C, out: qDim },
        { path: `${p}.self_attn.k_proj`, layer: i, in: C, out: kvDim },
        { path: `${p}.self_attn.v_proj`, layer: i, in: C, out: kvDim },
        { path: `${p}.self_attn.o_proj`, layer: i, in: qDim, out: C },
        { path: `${p}.mlp.gate_proj`, layer: i, in: C, out: I },
        { path: `${p}.mlp.up_proj`, layer: i, in: C, out: I },
        { path: `${p}.mlp.down_proj`, layer: i, in: I, out: C },
      );
      blocks.push({ attn: `${p}.self_attn`, mlp: `${p}.mlp` });
    }
  }
  return {
    name,
    family: cfg.family,
    layers: cfg.layers,
    hidden: C,
    kvDim,
    kvHeads: cfg.kvHeads,
    headDim: HS,
    linears,
    blocks,
    conv1d: cfg.family === 'gpt2',
  };
}

/**
 * PEFT's target-module match (check_target_module_exists): a string is a regular expression that
 * must match the whole module path ('all-linear' means every projection); a list matches a module
 * whose path equals an entry or ends with '.' + entry.
 */
export function matchesTarget(targets: string[] | string, path: string): boolean {
  if (typeof targets === 'string') {
    if (targets === 'all-linear') return true;
    return new RegExp(`^(?:${targets})$`).test(path);
  }
  return targets.some((t) => path === t || path.endsWith(`.${t}`));
}

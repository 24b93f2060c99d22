// GPT-2: pre-norm blocks with LayerNorm (weight and bias), learned absolute positions (wpe), a fused
// q|k|v projection (c_attn) and a GELU MLP (c_fc, c_proj), lm_head tied to wte.
//
// Hugging Face stores GPT-2's projections as Conv1D, weight (in,out) with y = x·W + b. The engine
// transposes them once while loading, to the (out,in) layout every other projection uses, and keeps
// c_attn's (3C,C) weight as three row blocks q|k|v so each block binds on its own. Parameter names
// stay Hugging Face's (transformer.h.{i}.attn.c_attn.weight, ...), which is also what PEFT prefixes.
import type { Architecture, LayerDef, LinearDef } from './architecture.ts';
import { linear } from './architecture.ts';
import type { ModelConfig } from './config.ts';
import type { ParamSpec } from './params.ts';

export function gpt2Architecture(cfg: ModelConfig): Architecture {
  const { hidden: C, intermediate: I, vocabSize: V } = cfg;
  const params: ParamSpec[] = [
    { name: 'transformer.wte.weight', shape: [V, C] },
    { name: 'transformer.wpe.weight', shape: [cfg.maxPositions, C] },
  ];
  const layers: LayerDef[] = [];
  const conv1d = new Set<string>();
  for (let l = 0; l < cfg.layers; l++) {
    const p = `transformer.h.${l}`;
    const cAttn = `${p}.attn.c_attn`;
    const qkv = (block: number): LinearDef => ({
      module: cAttn, weight: `${cAttn}.weight`, bias: `${cAttn}.bias`, block, blocks: 3, in: C, out: C,
    });
    const layer: LayerDef = {
      norm1: { weight: `${p}.ln_1.weight`, bias: `${p}.ln_1.bias` },
      q: qkv(0),
      k: qkv(1),
      v: qkv(2),
      qNorm: null,
      kNorm: null,
      o: linear(`${p}.attn.c_proj`, C, C, true),
      norm2: { weight: `${p}.ln_2.weight`, bias: `${p}.ln_2.bias` },
      mlpIn: [linear(`${p}.mlp.c_fc`, C, I, true)],
      mlpOut: linear(`${p}.mlp.c_proj`, I, C, true),
      attnModule: `${p}.attn`,
      mlpModule: `${p}.mlp`,
    };
    layers.push(layer);
    params.push({ name: layer.norm1.weight, shape: [C] }, { name: layer.norm1.bias!, shape: [C] });
    params.push({ name: `${cAttn}.weight`, shape: [3 * C, C], chunkRows: C }, { name: `${cAttn}.bias`, shape: [3 * C], chunkRows: C });
    conv1d.add(`${cAttn}.weight`);
    for (const lin of [layer.o, ...layer.mlpIn, layer.mlpOut]) {
      params.push({ name: lin.weight, shape: [lin.out, lin.in] }, { name: lin.bias!, shape: [lin.out] });
      conv1d.add(lin.weight);
    }
    params.push({ name: layer.norm2.weight, shape: [C] }, { name: layer.norm2.bias!, shape: [C] });
  }
  params.push({ name: 'transformer.ln_f.weight', shape: [C] }, { name: 'transformer.ln_f.bias', shape: [C] });
  if (!cfg.tieEmbeddings) params.push({ name: 'lm_head.weight', shape: [V, C] });
  return {
    cfg,
    params,
    wte: 'transformer.wte.weight',
    wpe: 'transformer.wpe.weight',
    layers,
    finalNorm: { weight: 'transformer.ln_f.weight', bias: 'transformer.ln_f.bias' },
    lmHead: cfg.tieEmbeddings ? 'transformer.wte.weight' : 'lm_head.weight',
    // The original GPT-2 checkpoints name tensors without the GPT2LMHeadModel's 'transformer.' prefix.
    source: (name) => ({
      names: name.startsWith('transformer.') ? [name, name.slice('transformer.'.length)] : [name],
      transposed: conv1d.has(name),
    }),
  };
}

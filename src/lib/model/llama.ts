// The Llama family (Llama, SmolLM2, Qwen2, Qwen3, Mistral-style): pre-norm blocks with RMSNorm, rotary
// positions, grouped-query attention and a SwiGLU MLP. Weights are stored exactly as Hugging Face
// names and lays them out (nn.Linear: (out,in)).
import type { Architecture, LayerDef } from './architecture.ts';
import { linear } from './architecture.ts';
import type { ModelConfig } from './config.ts';
import type { ParamSpec } from './params.ts';

export function llamaArchitecture(cfg: ModelConfig): Architecture {
  const { hidden: C, heads: NH, kvHeads: NKV, headDim: HS, intermediate: I, vocabSize: V } = cfg;
  const params: ParamSpec[] = [{ name: 'model.embed_tokens.weight', shape: [V, C] }];
  const layers: LayerDef[] = [];
  for (let l = 0; l < cfg.layers; l++) {
    const p = `model.layers.${l}`;
    const layer: LayerDef = {
      norm1: { weight: `${p}.input_layernorm.weight`, bias: null },
      q: linear(`${p}.self_attn.q_proj`, C, NH * HS, cfg.qkvBias),
      k: linear(`${p}.self_attn.k_proj`, C, NKV * HS, cfg.qkvBias),
      v: linear(`${p}.self_attn.v_proj`, C, NKV * HS, cfg.qkvBias),
      qNorm: cfg.qkNorm ? { weight: `${p}.self_attn.q_norm.weight`, bias: null } : null,
      kNorm: cfg.qkNorm ? { weight: `${p}.self_attn.k_norm.weight`, bias: null } : null,
      o: linear(`${p}.self_attn.o_proj`, NH * HS, C, cfg.oBias),
      norm2: { weight: `${p}.post_attention_layernorm.weight`, bias: null },
      mlpIn: [linear(`${p}.mlp.gate_proj`, C, I, cfg.mlpBias), linear(`${p}.mlp.up_proj`, C, I, cfg.mlpBias)],
      mlpOut: linear(`${p}.mlp.down_proj`, I, C, cfg.mlpBias),
      attnModule: `${p}.self_attn`,
      mlpModule: `${p}.mlp`,
    };
    layers.push(layer);
    params.push({ name: layer.norm1.weight, shape: [C] });
    for (const lin of [layer.q, layer.k, layer.v, layer.o]) {
      params.push({ name: lin.weight, shape: [lin.out, lin.in] });
      if (lin.bias) params.push({ name: lin.bias, shape: [lin.out] });
    }
    for (const n of [layer.qNorm, layer.kNorm]) if (n) params.push({ name: n.weight, shape: [HS] });
    params.push({ name: layer.norm2.weight, shape: [C] });
    for (const lin of [...layer.mlpIn, layer.mlpOut]) {
      params.push({ name: lin.weight, shape: [lin.out, lin.in] });
      if (lin.bias) params.push({ name: lin.bias, shape: [lin.out] });
    }
  }
  params.push({ name: 'model.norm.weight', shape: [C] });
  if (!cfg.tieEmbeddings) params.push({ name: 'lm_head.weight', shape: [V, C] });
  return {
    cfg,
    params,
    wte: 'model.embed_tokens.weight',
    wpe: null,
    layers,
    finalNorm: { weight: 'model.norm.weight', bias: null },
    lmHead: cfg.tieEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight',
    source: (name) => ({ names: [name], transposed: false }),
  };
}

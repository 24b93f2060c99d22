// activationBytes: the GPU memory Activations allocates, computed from plain data (no GPU), so the
// training plan's estimate is the allocator's own arithmetic. (tests/gpu/activations.test.ts checks
// it against real allocations.)
import { describe, expect, it } from 'vitest';
import { activationBytes, activationTensors, type ActivationShape } from '../../src/lib/model/activations';
import type { ModelConfig } from '../../src/lib/model/config';
import { activationShapeFor } from '../../src/lib/train/memory';

// A small Llama-family model: RMSNorm (no mean tensors), RoPE (qlin/klin), SwiGLU (two fc tensors).
const CFG: ModelConfig = {
  family: 'llama', modelType: 'llama', vocabSize: 256, hidden: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16,
  intermediate: 128, maxPositions: 64, norm: 'rmsnorm', normEps: 1e-5, mlp: 'swiglu', positions: 'rope', ropeTheta: 1e4,
  qkvBias: false, qkNorm: false, oBias: false, mlpBias: false, tieEmbeddings: true, bosTokenId: null, eosTokenIds: [],
};
const [B, T] = [2, 8];
// Bytes of one tensor of each shape (f32). (B,T) and (2) tensors are 64 and 8 bytes, but every
// tensor has a buffer of its own, sized in 256-byte blocks.
const BTC = B * T * 64 * 4; // 4096
const BTKV = B * T * 2 * 16 * 4; // 2048, (B,T,NKV,HS)
const BTI = B * T * 128 * 4; // 8192
const SMALL = 256; // (B,T), (B,NH,T) = 256 exactly, (2), and (B·T, r) for r <= 4
const HEAD = B * T * 256 * 4; // logits (B·T, V): all rows fit the default head size

const perLayer = 7 * BTC + 2 * BTKV + 3 * BTI + 3 * SMALL; // n1 q att ao mid n2 mo; k v; fc0 fc1 hmid; rstd1 lse rstd2

describe('activationBytes', () => {
  it('training without adapters: every layer, the head, and the gradient scratch', () => {
    const rope = BTC + BTKV; // qlin, klin
    const residual = (CFG.layers + 1) * BTC;
    const final = BTC + SMALL; // nf, rstdf
    const head = HEAD + 2 * BTC + 4 * SMALL + 5 * SMALL; // logits, xc, dxc; losses, lse, loss, count; row sums, counts, their gradient, preference stats and grad
    const grads = 5 * BTC + 2 * BTKV + BTC + BTKV + 3 * BTI + 2 * SMALL; // dres dn dy datt dq; dk dv; dqlin dklin; dfc0 dfc1 dhmid; dlosses zeros
    expect(activationBytes(CFG, activationShapeFor(CFG, { peft_type: 'FULL' }), B, T, true)).toBe(rope + residual + CFG.layers * perLayer + final + head + grads);
  });

  it('inference: one layer set shared by all layers and two residual buffers', () => {
    const want = BTC + BTKV + 2 * BTC + perLayer + BTC + SMALL + HEAD + BTC + 4 * SMALL + 4 * SMALL; // no gradients: no row-sum gradient
    expect(activationBytes(CFG, activationShapeFor(CFG, { peft_type: 'FULL' }), B, T, false)).toBe(want);
  });

  it('adds a LoRA activation per branch and layer, and the bottleneck adapters', () => {
    const plain = activationBytes(CFG, activationShapeFor(CFG, { peft_type: 'FULL' }), B, T, true);
    const lora: ActivationShape = {
      layers: [0, 1].map((l) => ({
        lora: [`model.layers.${l}.self_attn.q_proj`, `model.layers.${l}.mlp.up_proj`].map((module) => ({ module, block: 0, r: 8 })),
        bottleneck: { attn: 0, mlp: 0 },
      })),
    };
    // (B·T, 8) is 512 bytes: 2 branches × 2 layers, and du of the widest rank
    expect(activationBytes(CFG, lora, B, T, true) - plain).toBe(4 * 512 + 512);
    // inference keeps the branch activations of every layer too
    expect(activationBytes(CFG, lora, B, T, false) - activationBytes(CFG, activationShapeFor(CFG, { peft_type: 'FULL' }), B, T, false)).toBe(4 * 512);

    const bottleneck: ActivationShape = { layers: [0, 1].map(() => ({ lora: [], bottleneck: { attn: 16, mlp: 16 } })) };
    const BTS = B * T * 16 * 4; // 1024: (B,T,size), before and after the nonlinearity
    expect(activationBytes(CFG, bottleneck, B, T, true) - plain).toBe(2 * 2 * 2 * BTS + 2 * BTS);
  });

  it('runs the classifier over row chunks near headBytes, and LayerNorm keeps means', () => {
    const rows = (headBytes: number) => activationTensors(CFG, activationShapeFor(CFG, { peft_type: 'FULL' }), 16, 64, false, headBytes).find((x) => x.label === 'logits')!.shape[0];
    expect(rows(64 * 1024 * 1024)).toBe(16 * 64);
    expect(rows(256 * 4 * 300)).toBe(256); // 300 rows fit: a multiple of 64 below
    expect(rows(1)).toBe(64); // at least 64 rows
    const ln: ModelConfig = { ...CFG, norm: 'layernorm', positions: 'learned', mlp: 'gelu_tanh' };
    const labels = activationTensors(ln, activationShapeFor(ln, { peft_type: 'FULL' }), B, T, true).map((x) => x.label);
    expect(labels).toEqual(expect.arrayContaining(['L0.mean1', 'L1.mean2', 'meanf', 'dfc0']));
    expect(labels).not.toEqual(expect.arrayContaining(['qlin']));
    expect(labels).not.toContain('dfc1');
    expect(new Set(labels).size).toBe(labels.length);
  });

  it('Qwen3\'s q/k norm keeps each layer\'s pre-norm q, k and their per-head rstd in training', () => {
    const qwen3: ModelConfig = { ...CFG, modelType: 'qwen3', qkNorm: true };
    const shape = activationShapeFor(qwen3, { peft_type: 'FULL' });
    const extra = 2 * (B * T * 4 * 16 * 4 + BTKV + 2 * SMALL); // per layer: qpre (B,T,NH,HS), kpre, rstdq (B,T,NH), rstdk
    expect(activationBytes(qwen3, shape, B, T, true) - activationBytes(CFG, shape, B, T, true)).toBe(extra);
    // inference: one set for all layers
    expect(activationBytes(qwen3, shape, B, T, false) - activationBytes(CFG, shape, B, T, false)).toBe(extra / 2);
  });
});

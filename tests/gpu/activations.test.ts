// activationBytes (plain data, no GPU) equals what Activations really allocates, for every method,
// in training and inference, on both families. The shapes are written out from the method configs,
// as the training plan builds them, and checked against the bound model's own.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import type { MethodConfig } from '../../src/lib/adapters/config.ts';
import { activationBytes, activationShapeOfBinding, type ActivationShape } from '../../src/lib/model/activations.ts';
import { Model } from '../../src/lib/model/model.ts';
import { activationShapeFor, estimateTrainingMemory } from '../../src/lib/train/memory.ts';
import { FIXTURES, lora, modelFiles } from './fixtures.ts';

const gpu = useGpu();

// Per family: a LoRA config and the (module, block) of every projection it targets in layer l.
const FAMILIES = {
  'tiny-smollm2': {
    lora: ['q_proj', 'v_proj', 'down_proj'],
    branches: (l: number) => [`model.layers.${l}.self_attn.q_proj`, `model.layers.${l}.self_attn.v_proj`, `model.layers.${l}.mlp.down_proj`].map((module) => ({ module, block: 0 })),
  },
  'tiny-gpt2': {
    lora: ['c_attn', 'c_fc'],
    // c_attn is one module computed as three projections q|k|v: blocks 0, 1, 2
    branches: (l: number) => [0, 1, 2].map((block) => ({ module: `transformer.h.${l}.attn.c_attn`, block })).concat({ module: `transformer.h.${l}.mlp.c_fc`, block: 0 }),
  },
};

describe.each(Object.entries(FAMILIES))('%s: activationBytes equals the allocation', (name, family) => {
  const loraShape = (layers: number[]) => (L: number): ActivationShape => ({
    layers: Array.from({ length: L }, (_, l) => ({
      lora: layers.includes(l) ? family.branches(l).map((b) => ({ ...b, r: 4 })) : [],
      bottleneck: { attn: 0, mlp: 0 },
    })),
  });
  const methods: [string, MethodConfig, (layers: number) => ActivationShape | null][] = [
    ['lora', lora(4, 8, family.lora), loraShape([0, 1])],
    // branches in the last layer only: inference's shared layer set has none of its own
    ['lora, layers_to_transform [1]', lora(4, 8, family.lora, { layers_to_transform: [1] }), loraShape([1])],
    [
      'bottleneck',
      { peft_type: 'BOTTLENECK', bottleneck_size: 12, non_linearity: 'relu', placement: ['self_attn'] },
      (L) => ({ layers: Array.from({ length: L }, () => ({ lora: [], bottleneck: { attn: 12, mlp: 0 } })) }),
    ],
    ['prefix', { peft_type: 'PREFIX_TUNING', num_virtual_tokens: 3 }, () => null],
    ['full', { peft_type: 'FULL' }, () => null],
  ];

  it.each(methods)('%s', (_, config, expectedShape) => {
    // logits in chunks of 64 rows (V = 384): (2,16) fits in one, (3,40) takes two
    const headBytes = 384 * 4 * 64;
    const model = Model.load(gpu(), modelFiles(join(FIXTURES, name)), { headBytes });
    try {
      model.attach(config, 1);
      const shape = expectedShape(model.cfg.layers) ?? activationShapeFor(model.cfg, { peft_type: 'FULL' });
      expect(activationShapeOfBinding(model.transformer.binding)).toEqual(shape);
      // The training plan's memory estimate works out the same shape from the method config alone.
      expect(activationShapeFor(model.cfg, config)).toEqual(shape);
      expect(estimateTrainingMemory(model.cfg, config, 3, 40, headBytes).activations).toBe(model.activations(3, 40, true).bytes);
      model.releaseActivations();
      for (const training of [true, false]) {
        for (const [B, T] of [[2, 16], [3, 40]]) {
          const want = activationBytes(model.cfg, shape, B, T, training, headBytes);
          expect(model.activations(B, T, training).bytes, `B=${B} T=${T} training=${training}`).toBe(want);
          model.releaseActivations();
        }
      }
    } finally {
      model.destroy();
    }
  });
});

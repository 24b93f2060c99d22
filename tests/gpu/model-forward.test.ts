// Whole-model forward against PyTorch (tests/fixtures/README.md): the default model's logits and
// loss, and the three tiny architectures (GPT-2, Qwen2, SmolLM2) from their Hugging Face folders.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { Model } from '../../src/lib/model/model.ts';
import { DEFAULT_MODEL, FIXTURES, f32, fixture, i32, maxAbsDiff, modelFiles } from './fixtures.ts';

const gpu = useGpu();

describe('model forward matches PyTorch', () => {
  it.each(['tiny-smollm2', 'tiny-qwen2', 'tiny-gpt2'])('%s logits within 1e-4', async (name) => {
    const dir = join(FIXTURES, name);
    const ref = fixture(`${name}/logits.safetensors`);
    const ids = i32(ref, 'input_ids');
    const [B, T] = ref.byName.get('input_ids')!.shape;
    const model = Model.load(gpu(), modelFiles(dir));
    try {
      const got = await model.logits(ids, B, T);
      const err = maxAbsDiff(got, f32(ref, 'logits'));
      console.log(`${name}: max |logits - torch| = ${err.toExponential(2)}`);
      expect(err).toBeLessThanOrEqual(1e-4);
    } finally {
      model.destroy();
    }
  });
});

describe('default model (brown-llama-4m)', () => {
  it('logits within 1e-4 of PyTorch and the masked mean loss matches', async () => {
    const ref = fixture('forward.safetensors');
    const ids = i32(ref, 'input_ids');
    const targets = i32(ref, 'targets');
    const [B, T] = ref.byName.get('input_ids')!.shape;
    const model = Model.load(gpu(), modelFiles(DEFAULT_MODEL));
    try {
      const got = await model.logits(ids, B, T);
      const err = maxAbsDiff(got, f32(ref, 'logits'));
      const loss = await model.loss(ids, targets, B, T);
      const want = f32(ref, 'loss')[0];
      console.log(`brown-llama-4m: max |logits - torch| = ${err.toExponential(2)}, loss ${loss} vs ${want}`);
      expect(err).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(loss - want)).toBeLessThanOrEqual(1e-5 * Math.max(1, want));
      expect(targets.some((t) => t === -100)).toBe(true); // the fixture exercises the loss mask
    } finally {
      model.destroy();
    }
  });
});

describe('tensors larger than the maximum binding are split, not refused', () => {
  // A small buffer limit forces the (V,C) embedding — which is also the tied lm_head — into row
  // chunks: the lookup runs per chunk and the classifier assembles vocabulary blocks.
  it.each([
    ['tiny-smollm2', 96 * 1024],
    ['tiny-gpt2', 64 * 1024],
  ] as const)('%s with %i-byte buffers', async (name, maxBufferBytes) => {
    const ref = fixture(`${name}/logits.safetensors`);
    const [B, T] = ref.byName.get('input_ids')!.shape;
    const model = Model.load(gpu(), modelFiles(join(FIXTURES, name)), { maxBufferBytes });
    try {
      expect(model.base.entry(model.arch.wte).chunks.length).toBeGreaterThan(1);
      expect(model.base.layout.bufferSizes.every((n) => n * 4 <= maxBufferBytes)).toBe(true);
      const err = maxAbsDiff(await model.logits(i32(ref, 'input_ids'), B, T), f32(ref, 'logits'));
      console.log(`${name} split at ${maxBufferBytes} bytes: max |logits - torch| = ${err.toExponential(2)}`);
      expect(err).toBeLessThanOrEqual(1e-4);
    } finally {
      model.destroy();
    }
  });
});

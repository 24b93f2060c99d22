// Whole-model forward against PyTorch (tests/fixtures/README.md): the default model's logits and
// loss, and the four tiny architectures (GPT-2, Qwen2, Qwen3, SmolLM2) from their Hugging Face folders.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { Model } from '../../src/lib/model/model.ts';
import { DEFAULT_MODEL, FIXTURES, f32, fixture, i32, maxAbsDiff, modelFiles } from './fixtures.ts';
import { generate } from '../../src/lib/generate/generate.ts';
import { parseSafetensors, tensorToFloat32, writeSafetensors, type TensorToWrite } from '../../src/lib/model/safetensors.ts';

const gpu = useGpu();

describe('model forward matches PyTorch', () => {
  it.each(['tiny-smollm2', 'tiny-qwen2', 'tiny-qwen3', 'tiny-gpt2'])('%s logits within 1e-4', async (name) => {
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

describe('generation on the KV cache (tiny-qwen3: q/k norm of the new token only, keys cached after it)', () => {
  it('each greedy token is the argmax of the full forward over the sequence so far', async () => {
    const model = Model.load(gpu(), modelFiles(join(FIXTURES, 'tiny-qwen3')));
    try {
      const prompt = Array.from(i32(fixture('tiny-qwen3/logits.safetensors'), 'input_ids').subarray(0, 5));
      const out: number[] = [];
      for await (const t of generate(model, prompt, { maxNewTokens: 6, stopTokens: [] })) out.push(t);
      expect(out).toHaveLength(6);
      const seq = Int32Array.from([...prompt, ...out]);
      const V = model.cfg.vocabSize;
      const logits = await model.logits(seq, 1, seq.length);
      const argmax = (r: number) => logits.subarray(r * V, r * V + V).reduce((best, x, i, a) => (x > a[best] ? i : best), 0);
      expect(out).toEqual(out.map((_, i) => argmax(prompt.length - 1 + i)));
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
  // The limits are sized for f32 storage (tiny-smollm2's checkpoint is BF16, f16 by default);
  // weights-f16.test.ts splits f16-stored tensors.
  it.each([
    ['tiny-smollm2', 96 * 1024],
    ['tiny-gpt2', 64 * 1024],
  ] as const)('%s with %i-byte buffers', async (name, maxBufferBytes) => {
    const ref = fixture(`${name}/logits.safetensors`);
    const [B, T] = ref.byName.get('input_ids')!.shape;
    const model = Model.load(gpu(), modelFiles(join(FIXTURES, name)), { maxBufferBytes, weightDtype: 'f32' });
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

describe('checkpoint layouts', () => {
  // The original GPT-2 checkpoints name tensors without GPT2LMHeadModel's "transformer." prefix, and
  // big checkpoints come in shards: both must load to the same model.
  it('GPT-2 without the transformer. prefix, in two shards, gives the same logits', async () => {
    const dir = join(FIXTURES, 'tiny-gpt2');
    const files = modelFiles(dir);
    const src = parseSafetensors(files.weights[0]);
    const shards: Record<string, TensorToWrite>[] = [{}, {}];
    src.tensors.forEach((t, i) => {
      shards[i % 2][t.name.replace(/^transformer\./, '')] = { dtype: 'F32', shape: t.shape, data: tensorToFloat32(src, t.name) };
    });
    const ref = fixture('tiny-gpt2/logits.safetensors');
    const [B, T] = ref.byName.get('input_ids')!.shape;
    const model = Model.load(gpu(), { ...files, weights: shards.map((s) => writeSafetensors(s)) });
    try {
      const err = maxAbsDiff(await model.logits(i32(ref, 'input_ids'), B, T), f32(ref, 'logits'));
      expect(err).toBeLessThanOrEqual(1e-4);
    } finally {
      model.destroy();
    }
  });

  it('a missing or misshapen tensor is refused by name', () => {
    const files = modelFiles(join(FIXTURES, 'tiny-smollm2'));
    const src = parseSafetensors(files.weights[0]);
    const without: Record<string, TensorToWrite> = {};
    const wrong: Record<string, TensorToWrite> = {};
    for (const t of src.tensors) {
      const data = tensorToFloat32(src, t.name);
      if (t.name !== 'model.layers.1.mlp.up_proj.weight') without[t.name] = { dtype: 'F32', shape: t.shape, data };
      wrong[t.name] =
        t.name === 'model.norm.weight' ? { dtype: 'F32', shape: [t.shape[0] - 1], data: data.subarray(1) } : { dtype: 'F32', shape: t.shape, data };
    }
    expect(() => Model.load(gpu(), { ...files, weights: [writeSafetensors(without)] })).toThrow(/model\.layers\.1\.mlp\.up_proj\.weight/);
    expect(() => Model.load(gpu(), { ...files, weights: [writeSafetensors(wrong)] })).toThrow(/model\.norm\.weight has shape/);
  });
});

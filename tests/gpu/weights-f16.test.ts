// Frozen base weights stored as f16 (f32 math): the whole model against the same weights rounded to
// f16 on the host and loaded as f32 (the same math: logits, a LoRA step's loss and gradients, merged
// LoRA), against PyTorch (within what rounding the weights implies), full fine-tuning's f32 copy of an
// f16 base, and the storage type a BF16 checkpoint gets by default (f32 for a tensor f16 cannot hold).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { createRng } from '../../src/lib/random.ts';
import { Model, type ModelFiles } from '../../src/lib/model/model.ts';
import { Engine } from '../../src/lib/engine.ts';
import type { LoadOptions } from '../../src/lib/model/weights.ts';
import { parseModelConfig } from '../../src/lib/model/config.ts';
import { parseSafetensors, tensorToFloat32, writeSafetensors, type TensorToWrite } from '../../src/lib/model/safetensors.ts';
import { roundToF16 } from '../../src/lib/model/safetensors-dtypes.ts';
import type { Batch } from '../../src/lib/data/batches.ts';
import { DEFAULT_MODEL, FIXTURES, f32, fixture, i32, lora, maxAbsDiff, modelFiles, randomizeLoraB, relError, gradientPass } from './fixtures.ts';

const gpu = useGpu();

/** The checkpoint with `map` applied to every tensor (kept F32 unless `dtype` says otherwise). */
function rewrite(files: ModelFiles, map: (name: string, shape: number[], x: Float32Array) => TensorToWrite): ModelFiles {
  const src = parseSafetensors(files.weights[0]);
  const out: Record<string, TensorToWrite> = {};
  for (const t of src.tensors) out[t.name] = map(t.name, t.shape, tensorToFloat32(src, t.name));
  return { ...files, weights: [writeSafetensors(out)] };
}

/** Every 2-D tensor rounded to f16 on the host, stored F32: what an f16 load computes with. */
const rounded = (files: ModelFiles) => rewrite(files, (_, shape, x) => ({ dtype: 'F32', shape, data: shape.length === 2 ? roundToF16(x) : x }));

const f16Count = (m: Model) => [...m.base.layout.entries.values()].filter((e) => e.dtype === 'f16').length;
const matrixCount = (m: Model) => m.arch.params.filter((p) => p.shape.length === 2).length;

const MODELS: [string, string, string][] = [
  ['tiny-smollm2', join(FIXTURES, 'tiny-smollm2'), 'tiny-smollm2/logits.safetensors'],
  ['tiny-qwen2', join(FIXTURES, 'tiny-qwen2'), 'tiny-qwen2/logits.safetensors'],
  ['tiny-qwen3', join(FIXTURES, 'tiny-qwen3'), 'tiny-qwen3/logits.safetensors'],
  ['tiny-gpt2', join(FIXTURES, 'tiny-gpt2'), 'tiny-gpt2/logits.safetensors'],
  ['brown-llama-4m', DEFAULT_MODEL, 'forward.safetensors'],
];

async function logitsOf(files: ModelFiles, opts: LoadOptions, ids: Int32Array, B: number, T: number) {
  const m = Model.load(gpu(), files, opts);
  try {
    return { logits: await m.logits(ids, B, T), bytes: m.base.bytes, f16: f16Count(m), matrices: matrixCount(m), wteChunks: m.base.entry(m.arch.wte).chunks.length };
  } finally {
    m.destroy();
  }
}

describe('f16-stored base weights: logits', () => {
  it.each(MODELS)('%s: = the f32 load of the f16-rounded weights, and within the rounding error of PyTorch', async (name, dir, fix) => {
    const ref = fixture(fix);
    const ids = i32(ref, 'input_ids');
    const [B, T] = ref.byName.get('input_ids')!.shape;
    const torch = f32(ref, 'logits');
    const files = modelFiles(dir);
    const full = await logitsOf(files, { weightDtype: 'f32' }, ids, B, T);
    const half = await logitsOf(files, { weightDtype: 'f16' }, ids, B, T);
    const round = await logitsOf(rounded(files), {}, ids, B, T);
    const byDefault = await logitsOf(files, {}, ids, B, T);
    expect(full.f16).toBe(0);
    expect(half.f16).toBe(half.matrices); // every weight matrix, nothing else
    // By default F16/BF16 checkpoints (tiny-smollm2, tiny-qwen2, tiny-qwen3) store f16, F32 ones f32.
    const dtypes = new Set(parseSafetensors(files.weights[0]).tensors.map((t) => t.dtype));
    const halfCheckpoint = !dtypes.has('F32');
    expect(byDefault.f16).toBe(halfCheckpoint ? half.matrices : 0);
    expect(maxAbsDiff(byDefault.logits, halfCheckpoint ? half.logits : full.logits)).toBe(0);
    const same = maxAbsDiff(half.logits, round.logits);
    const [errFull, errHalf, errRound] = [full, half, round].map((r) => maxAbsDiff(r.logits, torch));
    const rounding = maxAbsDiff(round.logits, full.logits);
    console.log(
      `${name} (${[...dtypes].join('/')}): base bytes f32 ${full.bytes}, f16 ${half.bytes} (${(half.bytes / full.bytes).toFixed(3)}); ` +
        `max|f16 - rounded-f32| ${same.toExponential(2)}; max|· - torch|: f32 ${errFull.toExponential(2)}, f16 ${errHalf.toExponential(2)}, ` +
        `rounded-f32 ${errRound.toExponential(2)}; rounding moves logits by ${rounding.toExponential(2)}`,
    );
    expect(same).toBeLessThanOrEqual(1e-5);
    expect(errHalf).toBeLessThanOrEqual(2 * errRound + 1e-4);
    // Independent of the rounded load: f16 keeps 11 significant bits, so each weight moves by at most
    // 2^-11 relative, and the logits move by about that much at their own scale: bounded here by
    // 2·2^-11 ≈ 9.8e-4 of max|logits|. Measured (F32 checkpoints, where rounding changes the weights):
    // 7.5e-4 (tiny-gpt2), 2.3e-4 (brown-llama-4m); the BF16/F16 fixtures ~1e-6.
    const scale = torch.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    console.log(`${name}: max|logits f16 - torch| / max|torch logits| = ${(errHalf / scale).toExponential(2)} (max|torch logits| ${scale.toFixed(2)})`);
    expect(errHalf).toBeLessThanOrEqual(errFull + 2 ** -11 * 2 * scale);
    expect(half.bytes).toBeLessThan(full.bytes);
  });

  it.each([
    ['tiny-smollm2', 48 * 1024],
    ['tiny-gpt2', 32 * 1024],
  ] as const)('%s split over %i-byte buffers: f16 row chunks give the rounded-f32 logits', async (name, maxBufferBytes) => {
    const ref = fixture(`${name}/logits.safetensors`);
    const ids = i32(ref, 'input_ids');
    const [B, T] = ref.byName.get('input_ids')!.shape;
    const files = modelFiles(join(FIXTURES, name));
    const half = await logitsOf(files, { weightDtype: 'f16', maxBufferBytes }, ids, B, T);
    const round = await logitsOf(rounded(files), { maxBufferBytes }, ids, B, T);
    expect(half.wteChunks).toBeGreaterThan(1);
    expect(maxAbsDiff(half.logits, round.logits)).toBeLessThanOrEqual(1e-5);
  });
});

/** A seeded batch over a vocabulary of V; every 5th target ignored. */
function randomBatch(seed: number, V: number, B: number, T: number): Batch {
  const rand = createRng(seed);
  return {
    B, T,
    ids: Int32Array.from({ length: B * T }, () => Math.floor(rand() * V)),
    targets: Int32Array.from({ length: B * T }, (_, i) => (i % 5 === 0 ? -100 : Math.floor(rand() * V))),
  };
}

describe('f16-stored base weights: training', () => {
  const TARGETS: Record<string, string[]> = { 'tiny-smollm2': ['q_proj', 'v_proj', 'gate_proj', 'down_proj'], 'tiny-gpt2': ['c_attn', 'c_fc', 'c_proj'] };

  async function loraStep(files: ModelFiles, opts: LoadOptions, name: string, b: Batch) {
    const model = Model.load(gpu(), files, opts);
    try {
      const a = model.attach(lora(4, 8, TARGETS[name]), 1);
      await randomizeLoraB(a, createRng(5));
      const [loss] = await gradientPass(model, b);
      const grads = await a.grads.readAll();
      const logits = await model.logits(b.ids, b.B, b.T);
      model.mergeLora();
      const merged = await model.logits(b.ids, b.B, b.T);
      return { loss, grads, logits, merged, f16: f16Count(model) };
    } finally {
      model.destroy();
    }
  }

  it.each([
    ['tiny-smollm2', {}],
    ['tiny-smollm2', { maxBufferBytes: 48 * 1024 }],
    ['tiny-gpt2', {}],
  ] as const)('%s %j: a LoRA step on an f16 base gives the loss and gradients of the rounded-f32 base; merged LoRA too', async (name, opts) => {
    const files = modelFiles(join(FIXTURES, name));
    const V = parseModelConfig(files.config).vocabSize;
    const b = randomBatch(9, V, 2, 24);
    const half = await loraStep(files, { ...opts, weightDtype: 'f16' }, name, b);
    const round = await loraStep(rounded(files), opts, name, b);
    expect(half.f16).toBeGreaterThan(0);
    const lossDiff = Math.abs(half.loss - round.loss) / round.loss;
    const gradErr = relError(half.grads, round.grads);
    const mergedErr = maxAbsDiff(half.merged, round.merged);
    console.log(`${name} ${JSON.stringify(opts)} LoRA step: loss ${half.loss} vs ${round.loss} (rel ${lossDiff.toExponential(2)}), gradient rel err ${gradErr.toExponential(2)}, merged logits ${mergedErr.toExponential(2)}`);
    expect(lossDiff).toBeLessThanOrEqual(1e-5);
    expect(gradErr).toBeLessThanOrEqual(1e-5);
    expect(mergedErr).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(half.merged, half.logits)).toBeLessThanOrEqual(1e-4); // merging changes nothing
  });

  it.each([
    ['tiny-smollm2', {}],
    ['tiny-smollm2', { maxBufferBytes: 48 * 1024 }],
    ['tiny-gpt2', { maxBufferBytes: 32 * 1024 }],
  ] as const)('%s %j: full fine-tuning from an f16 base starts from the decoded base weights', async (name, opts) => {
    const files = modelFiles(join(FIXTURES, name));
    const model = Model.load(gpu(), files, { ...opts, weightDtype: 'f16' });
    try {
      const base = await model.base.readAll();
      const a = model.attach({ peft_type: 'FULL' }, 1);
      const params = await a.params.readAll();
      let chunked = 0;
      for (const s of a.def.specs) {
        const want = model.base.extract(base, s.name);
        expect(Array.from(a.params.extract(params, s.name)), s.name).toEqual(Array.from(want));
        if (s.shape.length === 2) expect(Array.from(want)).toEqual(Array.from(roundToF16(want))); // f16 values
        if (model.base.entry(s.name).chunks.length !== a.params.entry(s.name).chunks.length) chunked++;
      }
      if ('maxBufferBytes' in opts) expect(chunked).toBeGreaterThan(0); // f16 and f32 chunks hold different rows
      const b = randomBatch(3, model.cfg.vocabSize, 1, 16);
      const [loss] = await gradientPass(model, b);
      expect(Number.isFinite(loss)).toBe(true);
    } finally {
      model.destroy();
    }
  });
});

describe('generation with LoRA on an f16-stored base', () => {
  it('runs the LoRA branch instead of merging into f32 copies (which would double the targeted weights\' bytes); an f32 base merges', async () => {
    const files = modelFiles(join(FIXTURES, 'tiny-smollm2'));
    for (const weightDtype of ['f16', 'f32'] as const) {
      const engine = await Engine.load(files, { gpu: gpu(), weightDtype });
      try {
        engine.attach(lora(4, 8, 'all-linear'), 1);
        const ids: number[] = [];
        for await (const id of engine.generate([1, 2, 3], { maxNewTokens: 2, stopTokens: [] })) ids.push(id);
        expect(ids).toHaveLength(2);
        expect(engine.model.halfWeights).toBe(weightDtype === 'f16');
        expect(engine.model.merged === null).toBe(weightDtype === 'f16');
      } finally {
        engine.destroy();
      }
    }
  });
});

describe('storage type of a BF16 checkpoint', () => {
  /** f32 → bf16 bits, rounded to nearest even. */
  const toBf16 = (x: Float32Array) => {
    const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
    return Uint16Array.from(u, (v) => (v + 0x7fff + ((v >>> 16) & 1)) >>> 16);
  };

  it('weight matrices load as f16, a matrix with a value beyond f16 range and 1-D tensors as f32', async () => {
    const dir = join(FIXTURES, 'tiny-qwen2');
    const big = 'model.layers.0.mlp.down_proj.weight';
    const files = rewrite(modelFiles(dir), (name, shape, x) => {
      if (name === big) x[7] = 70000; // f16 overflows (≥ 65520); bf16 holds 70144
      return { dtype: 'BF16', shape, data: toBf16(x) };
    });
    const ref = fixture('tiny-qwen2/logits.safetensors');
    const ids = i32(ref, 'input_ids');
    const [B, T] = ref.byName.get('input_ids')!.shape;
    const model = Model.load(gpu(), files);
    const asF32 = Model.load(gpu(), files, { weightDtype: 'f32' });
    try {
      for (const e of model.base.layout.entries.values()) {
        expect(e.dtype, e.name).toBe(e.shape.length === 2 && e.name !== big ? 'f16' : 'f32');
      }
      expect(f16Count(asF32)).toBe(0);
      // BF16 → f16 is exact but for values below 2^-14 (f16's subnormals keep fewer bits)
      const err = maxAbsDiff(await model.logits(ids, B, T), await asF32.logits(ids, B, T));
      console.log(`tiny-qwen2 BF16: base bytes ${model.base.bytes} (f16) vs ${asF32.base.bytes} (f32); max|logits f16 - f32| ${err.toExponential(2)}`);
      expect(err).toBeLessThanOrEqual(1e-4);
      expect(() => model.base.write(big, new Float32Array(model.base.entry(big).size))).not.toThrow(); // f32 entry
    } finally {
      model.destroy();
      asF32.destroy();
    }
  });

  it('writing a value beyond f16 range into an f16 entry is refused', () => {
    const model = Model.load(gpu(), modelFiles(join(FIXTURES, 'tiny-qwen2')), { weightDtype: 'f16' });
    try {
      const name = 'model.layers.0.mlp.up_proj.weight';
      const x = new Float32Array(model.base.entry(name).size);
      x[3] = -1e5;
      expect(() => model.base.write(name, x)).toThrow(/beyond f16's range/);
    } finally {
      model.destroy();
    }
  });
});

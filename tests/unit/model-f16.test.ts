// Host f32 → f16 rounding (safetensors-dtypes.ts) against bit patterns numpy computed independently
// (np.float32(x).astype(np.float16).view(np.uint16)), the packed layout the kernels read, and the
// storage type the loader picks per tensor (weights.ts).
import { describe, expect, it } from 'vitest';
import { f16ToF32, f32ToF16, packF16, unpackF16 } from '../../src/lib/model/safetensors-dtypes.ts';
import { layoutParams, numel, wordsOf } from '../../src/lib/model/params.ts';
import { countF16Overflow, openCheckpoint } from '../../src/lib/model/weights.ts';
import { writeSafetensors } from '../../src/lib/model/safetensors.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelConfig } from '../../src/lib/model/config.ts';
import { architectureFor } from '../../src/lib/model/architecture.ts';
import { baseParamCount, baseWeightBytes, estimateTrainingMemory } from '../../src/lib/train/memory.ts';

const bitsOf = (x: number) => f32ToF16(Float32Array.of(x)).bits[0];

describe('f32 → f16 rounding', () => {
  it('matches numpy on edge values: ties to even, the overflow threshold, subnormals', () => {
    // [value, numpy's f16 bits]
    const cases: [number, number][] = [
      [0.0, 0x0000], [-0.0, 0x8000], [1.0, 0x3c00], [-2.5, 0xc100],
      [65504.0, 0x7bff], [65519.99609375, 0x7bff], [65520.0, 0x7c00], [-70000.0, 0xfc00],
      [9.99999993922529e-9, 0x0000], [2.9802322387695312e-8, 0x0000], [2.980232594040899e-8, 0x0001],
      [8.940696716308594e-8, 0x0002], [5.960464477539063e-8, 0x0001], [5.999999848427251e-5, 0x03ef],
      [6.103515625e-5, 0x0400], [6.1005353927612305e-5, 0x0400], [1.00048828125, 0x3c00],
      [1.00146484375, 0x3c02], [1.0004892349243164, 0x3c01], [0.10000000149011612, 0x2e66],
      [3.1415927410125732, 0x4248], [-1234.5677490234375, 0xe4d3], [Infinity, 0x7c00], [-Infinity, 0xfc00],
    ];
    for (const [x, want] of cases) expect(bitsOf(x).toString(16), `${x}`).toBe(want.toString(16));
    expect(bitsOf(NaN) & 0x7c00).toBe(0x7c00);
    expect(bitsOf(NaN) & 0x3ff).not.toBe(0);
  });

  it('matches numpy on 40 seeded values from 1e-9 to 1.6e5 (f32 bits → f16 bits)', () => {
    // numpy: rng = default_rng(7); x = (rng.standard_normal(40) * 10**rng.uniform(-9, 5.2, 40)).astype(float32)
    const cases = [
      [0x4079606d, 0x43cb], [0x3ba9bd1b, 0x1d4e], [0xc392b6de, 0xdc96], [0xbf8a50e6, 0xbc53], [0xc1784b02, 0xcbc2],
      [0xb2a9a973, 0x8000], [0x3b3e81df, 0x19f4], [0x3cb23592, 0x2592], [0xc4913c9c, 0xe48a], [0xb8af82c2, 0x857c],
      [0x3e1c851d, 0x30e4], [0x312a35a5, 0x0000], [0x380d3b33, 0x0235], [0xb816d392, 0x825b], [0xb1887876, 0x8000],
      [0x4387e076, 0x5c3f], [0xb9ac4184, 0x8d62], [0xc70d6908, 0xf86b], [0xbee85f66, 0xb743], [0xbf00f71d, 0xb808],
      [0xc00731c2, 0xc03a], [0xbf72b32f, 0xbb96], [0xb43c5f91, 0x8003], [0x39fe56ec, 0x0ff3], [0x34d44521, 0x0007],
      [0xb8cb9ab3, 0x865d], [0xb37f451e, 0x8001], [0xc6e8f6e4, 0xf748], [0xb36b60fb, 0x8001], [0x3ec8b962, 0x3646],
      [0xb7eccd44, 0x81da], [0xc49a2c36, 0xe4d1], [0xc01e8fd2, 0xc0f4], [0xb3807350, 0x8001], [0x4484a115, 0x6425],
      [0xc6a54730, 0xf52a], [0xc35ebc96, 0xdaf6], [0x3dded60d, 0x2ef7], [0xb391bd46, 0x8001], [0xb381b5ab, 0x8001],
    ];
    const x = new Float32Array(Uint32Array.from(cases, (c) => c[0]).buffer);
    const { bits, overflow } = f32ToF16(x);
    expect(Array.from(bits, (b) => b.toString(16))).toEqual(cases.map((c) => c[1].toString(16)));
    expect(overflow).toBe(0);
  });

  it('counts finite values that overflow to ±Infinity, not the infinities already there', () => {
    expect(f32ToF16(Float32Array.of(65504, 65519.99, 65520, -1e6, Infinity, -Infinity, NaN, 1)).overflow).toBe(2);
  });

  it('every half round-trips through f32 exactly (all 63488 finite bit patterns)', () => {
    const all = Uint16Array.from({ length: 0x10000 }, (_, i) => i).filter((h) => (h & 0x7c00) !== 0x7c00);
    expect(Array.from(f32ToF16(f16ToF32(all)).bits)).toEqual(Array.from(all));
  });

  it('packs element i into word i>>1, the even element in the low half, and unpacks it back', () => {
    const { words } = packF16(Float32Array.of(1, -2, 0.5));
    expect(Array.from(words)).toEqual([(0xc000 << 16 | 0x3c00) >>> 0, 0x3800]);
    expect(Array.from(unpackF16(words, 3))).toEqual([1, -2, 0.5]);
    expect(Array.from(unpackF16(words, 2, 1))).toEqual([-2, 0.5]);
  });
});

describe('f16 parameter layout', () => {
  it('counts 4-byte words: an f16 tensor takes half the words, each chunk starts 256-byte aligned', () => {
    const l = layoutParams(
      [
        { name: 'a', shape: [3, 5], dtype: 'f16' },
        { name: 'b', shape: [7] },
        { name: 'c', shape: [100, 33], dtype: 'f16' },
      ],
      1 << 20,
    );
    const [a, b, c] = ['a', 'b', 'c'].map((n) => l.entries.get(n)!);
    expect(a.dtype).toBe('f16');
    expect(b.dtype).toBe('f32');
    expect(a.chunks[0].offset).toBe(0);
    expect(b.chunks[0].offset).toBe(64); // wordsOf(15) = 8, aligned up to 64 words
    expect(c.chunks[0].offset).toBe(128);
    expect(l.bufferSizes).toEqual([128 + 64 * 26]); // 1650 words, aligned up
    expect(wordsOf(3300, 'f16')).toBe(1650);
  });

  it('splits an f16 tensor into chunks of twice the rows an f32 one gets', () => {
    const specs = (dtype: 'f32' | 'f16') => [{ name: 'w', shape: [1000, 30], dtype }];
    const f32 = layoutParams(specs('f32'), 64 * 1024).entries.get('w')!;
    const f16 = layoutParams(specs('f16'), 64 * 1024).entries.get('w')!;
    // 16384 words per buffer: 546 f32 rows of 30, 1092 f16 rows (one chunk holds them all)
    expect(f32.chunks.map((c) => c.rows)).toEqual([546, 454]);
    expect(f16.chunks.map((c) => c.rows)).toEqual([1000]);
    const f16small = layoutParams(specs('f16'), 32 * 1024).entries.get('w')!;
    expect(f16small.chunks.map((c) => c.rows)).toEqual([546, 454]);
    for (const c of f16small.chunks) expect(c.offset % 64).toBe(0);
  });
});

describe('overflow check of checkpoint tensors', () => {
  const bf16 = (values: number[]) => {
    // bf16 bits = top half of the f32 bits (these values are exact in bf16)
    const u = new Uint32Array(Float32Array.from(values).buffer);
    return new Uint8Array(Uint16Array.from(u, (x) => x >>> 16).buffer);
  };
  it('finds BF16 values beyond f16 range on the raw bits, and F32 ones after conversion', () => {
    const file = writeSafetensors({
      ok: { dtype: 'BF16', shape: [4], data: bf16([65280, -65280, 1, Infinity]) },
      big: { dtype: 'BF16', shape: [3], data: bf16([65536, -1e10, 2]) },
      f32: { dtype: 'F32', shape: [3], data: Float32Array.of(65519, 65520, -1e5) },
    });
    const ck = openCheckpoint([file]);
    expect(countF16Overflow(ck.find('ok')!, 'ok')).toBe(0);
    expect(countF16Overflow(ck.find('big')!, 'big')).toBe(2);
    expect(countF16Overflow(ck.find('f32')!, 'f32')).toBe(2);
  });
});

describe('memory estimate of f16-stored weights', () => {
  const config = (dir: string) => parseModelConfig(readFileSync(join(__dirname, '..', 'fixtures', dir, 'config.json'), 'utf8'));
  it('counts 2 bytes per weight-matrix element for a bfloat16/float16 config, 4 for float32', () => {
    for (const [dir, half] of [['tiny-smollm2', true], ['tiny-qwen2', true], ['tiny-gpt2', false]] as const) {
      const cfg = config(dir);
      const params = architectureFor(cfg).params;
      const matrices = params.filter((p) => p.shape.length === 2).reduce((s, p) => s + numel(p.shape), 0);
      const rest = baseParamCount(cfg) - matrices;
      expect(baseWeightBytes(cfg), dir).toBe((half ? 2 : 4) * matrices + 4 * rest);
      expect(estimateTrainingMemory(cfg, { peft_type: 'FULL' }, 1, 8).weights, dir).toBe(baseWeightBytes(cfg));
    }
  });

  it('reads the dtype from `dtype` (newer transformers) as from `torch_dtype`', () => {
    const raw = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'tiny-smollm2', 'config.json'), 'utf8')) as Record<string, unknown>;
    const { torch_dtype: _, ...rest } = raw;
    const withDtype = parseModelConfig({ ...rest, dtype: 'bfloat16' });
    const neither = parseModelConfig(rest);
    expect(withDtype.torchDtype).toBe('bfloat16');
    expect(neither.torchDtype).toBeUndefined();
    expect(baseWeightBytes(withDtype)).toBe(baseWeightBytes(config('tiny-smollm2')));
    expect(baseWeightBytes(neither)).toBeGreaterThan(baseWeightBytes(withDtype));
  });
});

// The GPU layer: real limits, readable compile and validation errors, device loss.
import { describe, expect, it } from 'vitest';
import {
  acquireGpu,
  createTensor,
  OPTIONAL_FEATURES,
  params,
  readF32,
  Recorder,
  view,
  type Kernel,
} from '../../src/lib/gpu/index.ts';
import { useGpu } from '../helpers/gpu.ts';

const gpu = useGpu();

const FILL: Kernel = {
  name: 'test_fill',
  file: 'tests/gpu/fill.wgsl',
  code: `struct Params { N: u32, value: f32 }
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < p.N) { out[g.x] = p.value; }
}
`,
};

describe('acquireGpu', () => {
  it('creates the device with the adapter’s real limits, not the defaults', () => {
    const g = gpu();
    for (const k of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup'] as const) {
      expect(g.limits[k], k).toBe(g.adapter.limits[k]);
    }
    // WebGPU's default maxStorageBufferBindingSize is 128 MiB; every adapter we target offers more.
    expect(g.limits.maxStorageBufferBindingSize).toBeGreaterThan(128 * 1024 * 1024);
  });

  it('enables only optional features the adapter has', () => {
    const g = gpu();
    for (const f of g.features) {
      expect(OPTIONAL_FEATURES as readonly string[]).toContain(f);
      expect(g.adapter.features.has(f)).toBe(true);
      expect(g.device.features.has(f)).toBe(true);
    }
    for (const f of OPTIONAL_FEATURES) expect(g.features.has(f)).toBe(g.adapter.features.has(f));
  });

  it('reports a destroyed device through `lost` as a readable message', async () => {
    const g = await acquireGpu();
    g.destroy();
    expect(await g.lost).toMatch(/GPU device was destroyed/);
  });
});

describe('pipelines', () => {
  it('reports a WGSL compile error with the file name and line:col', async () => {
    const bad: Kernel = {
      name: 'test_broken',
      file: 'src/lib/ops/broken/forward.wgsl',
      code: `@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(1)
fn main() {
  let x: i32 = 1.5;
  out[0] = f32(x);
}
`,
    };
    await expect(gpu().pipelines.compile(bad)).rejects.toThrow(/src\/lib\/ops\/broken\/forward\.wgsl:4:16: error:/);
  });

  it('reports the same compile error at the next readback when the pipeline was made while encoding', async () => {
    const g = gpu();
    const bad: Kernel = { ...FILL, name: 'test_broken_fill', file: 'tests/gpu/broken_fill.wgsl', code: FILL.code.replace('p.value;', 'p.valu;') };
    const out = createTensor(g, [8]);
    const rec = new Recorder(g);
    rec.dispatch({ kernel: bad, outputs: [out], inputs: [], params: params(8, 0), workgroups: [1] });
    rec.submit();
    await expect(readF32(g, out)).rejects.toThrow(/tests\/gpu\/broken_fill\.wgsl:6:\d+: error:/);
    out.buffer.destroy();
  });

  it('caches by op and override constants, never by shape', () => {
    const g = gpu();
    const a = g.pipelines.get(FILL);
    expect(g.pipelines.get(FILL)).toBe(a);
    const withOverride: Kernel = {
      name: 'test_fill_wg',
      file: 'tests/gpu/fill_wg.wgsl',
      code: FILL.code.replace('@compute @workgroup_size(64)', 'override WG: u32 = 64;\n@compute @workgroup_size(WG)'),
    };
    const w64 = g.pipelines.get(withOverride, { WG: 64 });
    expect(g.pipelines.get(withOverride, { WG: 32 })).not.toBe(w64);
    expect(g.pipelines.get(withOverride, { WG: 64 })).toBe(w64);
  });
});

describe('dispatch', () => {
  it('writes each dispatch’s own Params even when one pipeline runs many times in one submit', async () => {
    const g = gpu();
    const outs = [createTensor(g, [3]), createTensor(g, [70]), createTensor(g, [5])];
    const rec = new Recorder(g);
    outs.forEach((o, i) => rec.dispatch({ kernel: FILL, outputs: [o], inputs: [], params: params(o.shape[0], { f32: i + 0.5 }), workgroups: [Math.ceil(o.shape[0] / 64)] }));
    rec.submit();
    for (let i = 0; i < outs.length; i++) {
      expect(Array.from(await readF32(g, outs[i]))).toEqual(new Array(outs[i].shape[0]).fill(i + 0.5));
      outs[i].buffer.destroy();
    }
  });

  it('turns a validation error into an Error that names the op', async () => {
    const g = gpu();
    const out = createTensor(g, [8]);
    const rec = new Recorder(g);
    // The kernel declares a uniform at binding 1; leaving it out is a validation error.
    rec.dispatch({ kernel: FILL, outputs: [out], inputs: [], workgroups: [1] });
    rec.submit();
    await expect(readF32(g, out)).rejects.toThrow(/test_fill \(tests\/gpu\/fill\.wgsl\)/);
    out.buffer.destroy();
  });

  it('refuses to bind an output and an input from the same buffer, naming both', () => {
    const g = gpu();
    const shared = createTensor(g, [128], 'f32', 'shared');
    const a = view(shared, [4], 0, 'a');
    const b = view(shared, [4], 64, 'b'); // 256 bytes in: disjoint and bindable, but the same buffer
    const rec = new Recorder(g);
    expect(() => rec.dispatch({ kernel: FILL, outputs: [a], inputs: [b], workgroups: [1] })).toThrow(/test_fill: output a .* and input b .* same GPUBuffer/);
    rec.submit();
    shared.buffer.destroy();
  });
});

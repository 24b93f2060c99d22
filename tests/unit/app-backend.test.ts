import { describe, expect, it } from 'vitest';
import { chooseBackend, probeWebGPU, type WebGPUProbe } from '../../src/lib/base/backend.ts';

const withGpu: WebGPUProbe = { available: true, f16: false, adapter: 'google · swiftshader' };
const without: WebGPUProbe = { available: false, f16: false, reason: 'no adapter' };

describe('chooseBackend', () => {
  it('takes WebGPU on auto when there is an adapter, with nothing to explain', () => {
    expect(chooseBackend('auto', withGpu)).toEqual({ backend: 'webgpu' });
  });

  it('falls back to WASM on auto without an adapter and says why', () => {
    const choice = chooseBackend('auto', without);
    expect(choice.backend).toBe('wasm');
    expect(choice.fallbackReason).toMatch(/WebGPU is not available \(no adapter\)/);
    expect(choice.fallbackReason).toMatch(/WebAssembly/);
  });

  it('runs WASM when asked, even with an adapter', () => {
    expect(chooseBackend('wasm', withGpu)).toEqual({ backend: 'wasm' });
  });

  it('refuses a forced WebGPU without an adapter', () => {
    expect(() => chooseBackend('webgpu', without)).toThrow(/WebGPU was requested but is not available: no adapter/);
  });
});

describe('probeWebGPU', () => {
  it('reports a browser without navigator.gpu', async () => {
    const probe = await probeWebGPU(undefined);
    expect(probe.available).toBe(false);
    expect(probe.reason).toMatch(/navigator\.gpu/);
  });

  it('reports a browser whose requestAdapter finds nothing or throws', async () => {
    const none = { requestAdapter: async () => null } as unknown as GPU;
    expect(await probeWebGPU(none)).toMatchObject({ available: false, reason: expect.stringMatching(/no usable GPU adapter/) });
    const broken = {
      requestAdapter: async () => {
        throw new Error('device lost');
      },
    } as unknown as GPU;
    expect(await probeWebGPU(broken)).toMatchObject({ available: false, reason: expect.stringMatching(/device lost/) });
  });

  it('describes the adapter, its shader-f16 support and its buffer limits', async () => {
    const gpu = {
      requestAdapter: async () => ({
        info: { vendor: 'google', architecture: 'swiftshader', description: '' },
        features: new Set(['shader-f16']),
        limits: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 28, maxComputeWorkgroupSizeX: 256 },
      }),
    } as unknown as GPU;
    expect(await probeWebGPU(gpu)).toEqual({
      available: true,
      f16: true,
      adapter: 'google · swiftshader',
      limits: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 28 },
    });
  });
});

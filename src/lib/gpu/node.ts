// WebGPU in Node: the browser's globals (navigator.gpu, GPUBufferUsage, …) from Dawn's `webgpu`
// package, so the engine's code runs unchanged in the tests and the command line. Never imported by
// the page (it loads a native module).
//
// On Linux Dawn needs a Vulkan driver; without a GPU that is SwiftShader from Debian's chromium, which
// the process must be started with (vulkan-env.mjs: the command line's launcher and scripts/test.sh
// set it up). When no adapter comes back, the error says what was tried.

import { create, globals } from 'webgpu';
import { acquireGpu, NoAdapterError, type Gpu, type GpuOptions } from './device.ts';
import { vulkanSetup } from './vulkan-env.mjs';

/** Puts Dawn's WebGPU globals and navigator.gpu on globalThis (once; later calls return the same GPU). */
export function installNodeWebGPU(): GPU {
  Object.assign(globalThis, globals);
  // Node 20 has no global navigator (Node 21+ has one without `gpu`).
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (!g.navigator) {
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  }
  if (!g.navigator!.gpu) {
    Object.defineProperty(g.navigator!, 'gpu', { value: create([]), configurable: true });
  }
  return g.navigator!.gpu!;
}

/** What Dawn had to work with, for the error when it finds no adapter. */
export function describeNodeWebGPU(): string {
  const setup = vulkanSetup();
  const parts = [`Dawn (the webgpu package) on ${process.platform}-${process.arch}`, ...setup.notes];
  const missing = Object.entries(setup.set).map(([name, value]) => `${name}=${value}`);
  if (missing.length) {
    parts.push(`this process was not started with ${missing.join(' ')} (bin/lora-playground.mjs and scripts/test.sh set it)`);
  }
  return parts.join('; ');
}

/** installNodeWebGPU + acquireGpu; with no adapter, an error naming what was tried. */
export async function acquireNodeGpu(opts: Omit<GpuOptions, 'gpu'> = {}): Promise<Gpu> {
  const gpu = installNodeWebGPU();
  try {
    return await acquireGpu({ ...opts, gpu });
  } catch (e) {
    if (e instanceof NoAdapterError) {
      throw new NoAdapterError(
        `no WebGPU adapter: ${describeNodeWebGPU()}. A GPU with a Vulkan driver, or Debian's chromium package (SwiftShader, on the CPU), gives one.`,
      );
    }
    throw e;
  }
}

// Gives Node the browser's WebGPU globals (navigator.gpu, GPUBufferUsage, ...) through Dawn's
// `webgpu` package, so the engine's code runs unchanged in tests. On a machine without a GPU the
// Vulkan driver is SwiftShader, shipped by Debian's chromium (scripts/test.sh sets VK_ICD_FILENAMES
// and LD_LIBRARY_PATH before Node starts; the Vulkan loader reads them when it is first loaded).
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
// Node 20 has no global navigator (Node 21+ has one without `gpu`).
const g = globalThis as { navigator?: object };
if (!g.navigator) {
  Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
}
if (!('gpu' in g.navigator!)) {
  Object.defineProperty(g.navigator!, 'gpu', { value: create([]), configurable: true });
}

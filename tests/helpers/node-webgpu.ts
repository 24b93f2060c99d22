// Gives Node the browser's WebGPU globals (navigator.gpu, GPUBufferUsage, ...) through Dawn's
// `webgpu` package, so the engine's code runs unchanged in tests. On a machine without a GPU the
// Vulkan driver is SwiftShader, shipped by Debian's chromium (scripts/test.sh sets VK_ICD_FILENAMES
// and LD_LIBRARY_PATH before Node starts; the Vulkan loader reads them when it is first loaded).
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
if (!('gpu' in globalThis.navigator)) {
  Object.defineProperty(globalThis.navigator, 'gpu', { value: create([]), configurable: true });
}

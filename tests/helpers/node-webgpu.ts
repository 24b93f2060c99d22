// Vitest setup file of the GPU tests: the browser's WebGPU globals in Node (src/lib/gpu/node.ts), so
// the engine's code runs unchanged. scripts/test.sh starts Node with the Vulkan driver Dawn needs.
import { installNodeWebGPU } from '../../src/lib/gpu/node.ts';

installNodeWebGPU();

import { defineConfig } from 'vitest/config';

// Three layers of tests: unit (Node, no GPU), gpu (Node + Dawn's `webgpu`
// package on whatever Vulkan driver is present: SwiftShader on CI), e2e (playwright-core driving
// Debian's Chromium against the built site).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'gpu',
          include: ['tests/gpu/**/*.test.ts', 'tests/ops/**/*.test.ts'],
          environment: 'node',
          setupFiles: ['tests/helpers/node-webgpu.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // One GPU device per worker; SwiftShader is a CPU, so running files in parallel only
          // fights over the same two cores.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 900_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});

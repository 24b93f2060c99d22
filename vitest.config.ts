import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

// The layers of tests: unit (Node, no GPU), fuzz (Node: property-based tests and the regression corpus
// of crafted files over every parser that takes a user's bytes; tests/fuzz/harness.ts), gpu (Node + Dawn's `webgpu` package on whatever Vulkan
// driver is present: SwiftShader on CI), cli (the command line in a subprocess), e2e (playwright-core
// driving Debian's Chromium against the built site).
export default defineConfig({
  test: {
    projects: [
      {
        // The page's state classes (*.svelte.ts) use runes: the Svelte plugin compiles them for the tests.
        plugins: [svelte({ configFile: false })],
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'fuzz',
          include: ['tests/fuzz/**/*.test.ts'],
          environment: 'node',
          // Each case has its own budget (harness.ts); a file of many cases needs more than the default 5 s.
          testTimeout: 60_000,
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
          // The command line (bin/lora-playground.mjs) run as a subprocess on the shipped model: it sets
          // up its own WebGPU (Dawn on SwiftShader without a GPU), so this project needs no setup file.
          name: 'cli',
          include: ['tests/cli/**/*.test.ts'],
          environment: 'node',
          testTimeout: 600_000,
          hookTimeout: 600_000,
          // Each command owns a GPU device and SwiftShader is a CPU: one at a time.
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

// Builds the benchmark page (bench/index.html → bench-results/site/) on its own, so the app's
// vite.config.ts is untouched. The page imports the engine from src/lib and onnxruntime-web, whose wasm
// files it imports with `?url` (emitted next to the bundle, never fetched from a CDN). The model is not
// copied: scripts/bench.mjs serves models/ next to the site.
import { defineConfig } from 'vite';
import { resolve } from 'node:path';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  publicDir: false,
  logLevel: 'warn',
  worker: { format: 'es' },
  build: {
    outDir: resolve(import.meta.dirname, '../bench-results/site'),
    emptyOutDir: true,
    target: 'es2022',
    // onnxruntime-web is large by nature.
    chunkSizeWarningLimit: 8192,
  },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
});

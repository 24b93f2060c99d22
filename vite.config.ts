import { defineConfig, type Plugin, type Connect } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { createReadStream, cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';

// The app is a static site: `dist/` can be served from any path prefix (base './') and makes no
// request outside its own origin. onnxruntime's wasm files are imported with `?url` by the worker
// (src/lib/base/runtime.ts), so Vite emits them next to the bundle; the shipped models are copied by
// the plugin below.

const MODELS_DIR = resolve(import.meta.dirname, 'models');

// Folders under models/ that are not models the app ships (the Python recipe that builds them).
const NOT_SHIPPED = new Set(['recipe']);

/** The model folders the app serves: models/<id>/ with a config.json, except the recipe. */
function shippedModelDirs(): string[] {
  if (!existsSync(MODELS_DIR)) return [];
  return readdirSync(MODELS_DIR).filter(
    (name) =>
      !NOT_SHIPPED.has(name) &&
      statSync(join(MODELS_DIR, name)).isDirectory() &&
      existsSync(join(MODELS_DIR, name, 'config.json')),
  );
}

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};

/**
 * Serves models/<id>/… at <base>models/<id>/… in `vite dev`, and copies each shipped model folder into
 * dist/models/<id>/ at build time (so `vite preview` and any static host serve them too).
 */
function shippedModels(): Plugin {
  let outDir = 'dist';
  const middleware: Connect.NextHandleFunction = (req, res, next) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = /(?:^|\/)models\/(.+)$/.exec(decodeURIComponent(url.pathname));
    if (!match) return next();
    const file = resolve(MODELS_DIR, match[1]);
    const [id] = match[1].split('/');
    if (!file.startsWith(MODELS_DIR + sep) || NOT_SHIPPED.has(id) || !existsSync(file) || !statSync(file).isFile()) {
      return next();
    }
    res.setHeader('Content-Type', CONTENT_TYPES[extname(file)] ?? 'application/octet-stream');
    res.setHeader('Content-Length', String(statSync(file).size));
    createReadStream(file).pipe(res);
  };
  return {
    name: 'lora-playground:shipped-models',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    configureServer(server) {
      server.middlewares.use(middleware);
    },
    closeBundle() {
      const ids = shippedModelDirs();
      if (ids.length === 0) {
        this.warn(`no model folders under ${MODELS_DIR}: the default model will be missing from the build`);
      }
      for (const id of ids) {
        cpSync(join(MODELS_DIR, id), join(outDir, 'models', id), { recursive: true });
      }
    },
  };
}

// Cross-origin isolation lets onnxruntime's wasm use threads (SharedArrayBuffer). Static hosts that
// cannot send these headers still work, single-threaded.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  base: './',
  plugins: [svelte(), shippedModels()],
  publicDir: 'static',
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    // onnxruntime-web and transformers.js are large by nature; the warning says nothing useful.
    chunkSizeWarningLimit: 4096,
  },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  optimizeDeps: {
    // Pre-bundling rewrites onnxruntime-web's worker/wasm URLs; serve it as shipped.
    exclude: ['@huggingface/transformers', 'onnxruntime-web'],
  },
});

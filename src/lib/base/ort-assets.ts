// onnxruntime-web's WebAssembly files, served by the app itself. transformers.js would otherwise fetch
// them from a CDN. It loads the "asyncify" build (the one whose JS glue ort.webgpu.bundle.min.mjs is
// built for, WebGPU and WASM alike); Vite emits both files next to the bundle and gives their URLs.

import { env } from '@huggingface/transformers';
import ortMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';

/** Points onnxruntime-web at the app's own copies of its wasm files (absolute URLs). */
export function useOwnOrtWasm(): { mjs: string; wasm: string } {
  const paths = {
    mjs: new URL(ortMjsUrl, import.meta.url).href,
    wasm: new URL(ortWasmUrl, import.meta.url).href,
  };
  const onnx = env.backends.onnx as { wasm?: { wasmPaths?: unknown } };
  if (onnx.wasm) onnx.wasm.wasmPaths = paths;
  return paths;
}

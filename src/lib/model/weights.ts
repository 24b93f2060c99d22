// Loading a Hugging Face checkpoint (model.safetensors, or its shards) into the base ParamStore:
// F32, F16 and BF16 tensors become f32 on the GPU; GPT-2's Conv1D weights are transposed to (out,in);
// tensors bigger than the device's maximum storage binding are split into row chunks (params.ts).
// The base store is only ever bound read-only afterwards.
import type { Gpu } from '../gpu/index.ts';
import type { Architecture } from './architecture.ts';
import { layoutParams, numel } from './params.ts';
import { parseSafetensors, tensorToFloat32, type SafetensorsFile } from './safetensors.ts';
import { ParamStore } from './store.ts';

/** (rows,cols) → (cols,rows) */
export function transpose2d(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c];
  return out;
}

export interface LoadOptions {
  /**
   * Largest buffer (and so binding) to use, in bytes. Defaults to the device's
   * maxStorageBufferBindingSize; tests lower it to exercise the splitting of large tensors.
   */
  maxBufferBytes?: number;
  /** size of the logits buffer the classifier fills per row chunk (default HEAD_BYTES, 64 MiB) */
  headBytes?: number;
}

export function maxBufferBytes(gpu: Gpu, opts: LoadOptions = {}): number {
  const limit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
  return Math.min(opts.maxBufferBytes ?? limit, limit);
}

/** Parses checkpoint shards once; `find` looks a tensor up in whichever shard holds it. */
export function openCheckpoint(files: (ArrayBuffer | Uint8Array)[]): { files: SafetensorsFile[]; find(name: string): SafetensorsFile | null } {
  const parsed = files.map((f, i) => parseSafetensors(f, { source: `model shard ${i}` }));
  return {
    files: parsed,
    find: (name) => parsed.find((f) => f.byName.has(name)) ?? null,
  };
}

/** Reads every base parameter of `arch` from the checkpoint into a new ParamStore. */
export function loadBaseWeights(
  gpu: Gpu,
  arch: Architecture,
  checkpoint: ReturnType<typeof openCheckpoint>,
  opts: LoadOptions = {},
): ParamStore {
  const layout = layoutParams(arch.params, maxBufferBytes(gpu, opts));
  const store = new ParamStore(gpu, layout, 'base');
  try {
    for (const spec of arch.params) {
      store.write(spec.name, readParam(arch, checkpoint, spec.name, spec.shape));
    }
  } catch (e) {
    store.destroy();
    throw e;
  }
  return store;
}

/** One base parameter from the checkpoint, as f32 in the engine's layout. */
export function readParam(
  arch: Architecture,
  checkpoint: ReturnType<typeof openCheckpoint>,
  name: string,
  shape: number[],
): Float32Array {
  const { names, transposed } = arch.source(name);
  for (const n of names) {
    const file = checkpoint.find(n);
    if (!file) continue;
    const info = file.byName.get(n)!;
    const want = transposed ? [shape[1], shape[0]] : shape;
    if (numel(info.shape) !== numel(want) || info.shape.length !== want.length || info.shape.some((d, i) => d !== want[i])) {
      throw new Error(`model.safetensors: ${n} has shape [${info.shape}], expected [${want}]`);
    }
    const data = tensorToFloat32(file, n);
    return transposed ? transpose2d(data, want[0], want[1]) : data;
  }
  throw new Error(`model.safetensors: no tensor ${names.join(' or ')}`);
}

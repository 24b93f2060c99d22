// Loading a Hugging Face checkpoint (model.safetensors, or its shards) into the base ParamStore:
// GPT-2's Conv1D weights are transposed to (out,in); tensors bigger than the device's maximum storage
// binding are split into row chunks (params.ts). The base store is only ever bound read-only afterwards.
//
// Storage type: the 2-D weight matrices (every projection, the embeddings and lm_head — the tensors
// read only through matmul's B operand or the embedding lookup) are stored as f16 when the checkpoint
// holds them in F16 or BF16 (or when `weightDtype: 'f16'` asks), halving their GPU memory; the math
// stays f32 (kernels decode as they load). BF16 → f16 is exact for |x| in [2^-14, 65504] and rounds
// to nearest even below; a tensor with any value that f16 would turn into ±Infinity (|x| ≥ 65520)
// stays f32. Norm weights and biases are always f32, as is every trainable store.
import type { Gpu } from '../gpu/index.ts';
import type { Architecture } from './architecture.ts';
import { layoutParams, numel, type ParamSpec } from './params.ts';
import { parseSafetensors, tensorBytes, tensorToFloat32, type SafetensorsFile } from './safetensors.ts';
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
  /**
   * Storage of the base weight matrices: 'f16' (half the memory, f32 math), or 'f32'. Default: f16
   * for the tensors the checkpoint stores as F16 or BF16, f32 for F32 ones. Either way a tensor
   * with values beyond f16's range stays f32.
   */
  weightDtype?: 'f16' | 'f32';
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
  const specs = arch.params.map((spec): ParamSpec => ({ ...spec, dtype: baseDtype(arch, checkpoint, spec, opts.weightDtype) }));
  const layout = layoutParams(specs, maxBufferBytes(gpu, opts));
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

/** The f16 threshold: finite values of this magnitude or more round to ±Infinity in f16. */
const F16_OVERFLOW = 65520;

/** How base parameter `spec` is stored on the GPU (see the header). */
export function baseDtype(
  arch: Architecture,
  checkpoint: ReturnType<typeof openCheckpoint>,
  spec: ParamSpec,
  want: 'f16' | 'f32' | undefined,
): 'f16' | 'f32' {
  if (spec.shape.length !== 2 || want === 'f32') return 'f32';
  const found = sourceOf(arch, checkpoint, spec.name);
  if (!found) return 'f32'; // readParam names the missing tensor
  const { file, name } = found;
  const dtype = file.byName.get(name)!.dtype;
  if (want === undefined && dtype !== 'F16' && dtype !== 'BF16') return 'f32';
  return countF16Overflow(file, name) > 0 ? 'f32' : 'f16';
}

/** Values of a checkpoint tensor that f16 cannot hold (finite, |x| ≥ 65520). */
export function countF16Overflow(file: SafetensorsFile, name: string): number {
  const dtype = file.byName.get(name)!.dtype;
  if (dtype === 'F16') return 0;
  if (dtype === 'BF16') {
    // bf16 is the top half of an f32: |x| ≥ 65520 ⟺ bits ≥ 0x4780 (65536; 65280 is the bf16 below),
    // finite ⟺ exponent bits < 0x7f80. Scanned on the raw bits, without converting.
    const bytes = tensorBytes(file, name);
    let n = 0;
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      const a = (bytes[i] | (bytes[i + 1] << 8)) & 0x7fff;
      if (a >= 0x4780 && a < 0x7f80) n++;
    }
    return n;
  }
  let n = 0;
  for (const x of tensorToFloat32(file, name)) if (Math.abs(x) >= F16_OVERFLOW && Number.isFinite(x)) n++;
  return n;
}

/** The checkpoint tensor (and the shard holding it) that base parameter `name` comes from. */
function sourceOf(arch: Architecture, checkpoint: ReturnType<typeof openCheckpoint>, name: string): { file: SafetensorsFile; name: string } | null {
  for (const n of arch.source(name).names) {
    const file = checkpoint.find(n);
    if (file) return { file, name: n };
  }
  return null;
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

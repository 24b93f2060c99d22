// Which backend runs the base model: WebGPU when the browser gives us an adapter, WebAssembly otherwise.
// Where WebGPU is missing the page says so plainly (fallbackReason) instead of silently running slower.

import { describeAdapter } from '../gpu/device.ts';

export type WebBackend = 'webgpu' | 'wasm';
export type BackendPreference = 'auto' | WebBackend;

/** What the browser offers. */
export interface WebGPUProbe {
  available: boolean;
  /** The adapter supports shader-f16 (lets fp16/q4f16 weights run). */
  f16: boolean;
  /** The adapter in words, e.g. "google · swiftshader · SwiftShader Device (Subzero)". */
  adapter?: string;
  /** Why WebGPU is unavailable, in words a user understands. */
  reason?: string;
  /** The adapter's buffer limits (what a run's largest buffer is checked against, train/fit.ts). */
  limits?: { maxBufferSize: number; maxStorageBufferBindingSize: number };
}

export interface BackendChoice {
  backend: WebBackend;
  /** Set when the choice differs from what WebGPU-first would give: shown to the user. */
  fallbackReason?: string;
}

/** Asks the browser (page or worker) for a WebGPU adapter. Never throws. */
export async function probeWebGPU(
  gpu: GPU | undefined = (globalThis.navigator as Navigator | undefined)?.gpu,
): Promise<WebGPUProbe> {
  if (!gpu) {
    return { available: false, f16: false, reason: 'this browser does not expose WebGPU (navigator.gpu is missing)' };
  }
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) {
      return { available: false, f16: false, reason: 'the browser has WebGPU but found no usable GPU adapter' };
    }
    const { maxBufferSize, maxStorageBufferBindingSize } = adapter.limits;
    return { available: true, f16: adapter.features.has('shader-f16'), adapter: describeAdapter(adapter), limits: { maxBufferSize, maxStorageBufferBindingSize } };
  } catch (err) {
    return { available: false, f16: false, reason: `requesting a WebGPU adapter failed: ${String(err)}` };
  }
}

/**
 * The backend to use. 'auto' takes WebGPU when there is an adapter and falls back to WASM with a reason;
 * 'webgpu' without an adapter is an error (the user asked for it explicitly); 'wasm' is always possible.
 */
export function chooseBackend(preference: BackendPreference, probe: WebGPUProbe): BackendChoice {
  if (preference === 'wasm') return { backend: 'wasm' };
  if (probe.available) return { backend: 'webgpu' };
  const reason = probe.reason ?? 'no WebGPU adapter';
  if (preference === 'webgpu') {
    throw new Error(`WebGPU was requested but is not available: ${reason}.`);
  }
  return { backend: 'wasm', fallbackReason: `WebGPU is not available (${reason}), so the model runs on WebAssembly (CPU), which is slower.` };
}

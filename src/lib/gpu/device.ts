// Acquiring the GPUDevice: the adapter's real limits (with a fallback ladder), optional features,
// and device loss / uncaptured errors turned into readable messages.
import { GpuError } from './errors.ts';
import { BindGroupCache } from './bindgroups.ts';
import type { GpuCounters } from './counters.ts';
import type { Dispatch } from './recorder.ts';
import { PipelineCache } from './pipelines.ts';
import { UniformPool } from './uniforms.ts';
import { createTensor, type Tensor } from './tensor.ts';

/** Features the engine can use when the adapter has them; none is required. */
export const OPTIONAL_FEATURES = ['shader-f16', 'subgroups', 'timestamp-query'] as const;

/**
 * Limits the engine asks for. Big models need big storage bindings; the matmul tiles need
 * workgroup memory and 256 invocations; the model binds up to ~10 storage buffers per kernel.
 */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
] as const;
type WantedLimit = (typeof WANTED_LIMITS)[number];

/** Limits that may be halved on the way down the ladder (the others are requested as-is or not at all). */
const SIZE_LIMITS: WantedLimit[] = ['maxStorageBufferBindingSize', 'maxBufferSize'];

export interface GpuOptions {
  powerPreference?: GPUPowerPreference;
  /** Defaults to navigator.gpu. */
  gpu?: GPU;
  /** Features to leave off even if present (e.g. to test the fallback paths). */
  disableFeatures?: string[];
  label?: string;
}

export interface Gpu {
  adapter: GPUAdapter;
  device: GPUDevice;
  /** The limits the device was actually created with. */
  limits: GPUSupportedLimits;
  /** The optional features that were enabled. */
  features: Set<string>;
  pipelines: PipelineCache;
  uniforms: UniformPool;
  /** Bind groups made so far, reused when a dispatch binds the same buffer ranges again. */
  bindGroups: BindGroupCache;
  /** Dispatches, bind groups, error scopes, command buffers and bytes written so far (gpu/counters.ts). */
  counters: GpuCounters;
  /**
   * When set, every dispatch a Recorder records is passed to it as well (`npm run bench` breaks a
   * training step down by kernel this way); null otherwise.
   */
  trace: ((d: Dispatch) => void) | null;
  /** Resolves with a readable message when the device is lost (including by destroy()). */
  lost: Promise<string>;
  /** Errors the device reported outside any error scope, oldest first (also logged). */
  uncapturedErrors: string[];
  /**
   * A scratch tensor of `elements` f32 values in a buffer of its own, shared by every caller using
   * the same key and size class (e.g. split-K partial sums), reused across dispatches: dispatches in
   * one queue run in order, so the next op overwrites it only after the last one read it.
   */
  scratch(key: string, elements: number): Tensor;
  /**
   * Awaits every deferred check (shader compilation info, per-dispatch validation scopes) and
   * throws the first problem as an Error naming the op and its .wgsl file. readTensors() calls it,
   * so a broken kernel surfaces at the next readback at the latest.
   */
  checkErrors(): Promise<void>;
  destroy(): void;
}

/** The adapter as a person knows it, "vendor · architecture · description", from what the browser tells. */
export function describeAdapter(adapter: GPUAdapter): string {
  const info = adapter.info as GPUAdapterInfo | undefined; // older browsers have no adapter.info
  const words = [info?.vendor, info?.architecture, info?.description].filter((w) => w && w.length > 0);
  return words.length > 0 ? words.join(' · ') : 'unnamed adapter';
}

/** navigator.gpu exists but gives no adapter (no driver, or none the browser accepts). */
export class NoAdapterError extends Error {
  constructor(message = 'WebGPU is available but no GPU adapter was found.') {
    super(message);
    this.name = 'NoAdapterError';
  }
}

/** Requests the adapter, then a device with the adapter's limits, falling back step by step. */
export async function acquireGpu(opts: GpuOptions = {}): Promise<Gpu> {
  const gpuApi = opts.gpu ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
  if (!gpuApi) throw new Error('WebGPU is not available here (navigator.gpu is undefined).');
  const adapter = await gpuApi.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) throw new NoAdapterError();

  const disabled = new Set(opts.disableFeatures ?? []);
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f) && !disabled.has(f)) as GPUFeatureName[];

  // The ladder: the adapter's limits; then the size limits halved twice; then the defaults.
  const full: Record<string, number> = {};
  for (const k of WANTED_LIMITS) full[k] = adapter.limits[k];
  const halve = (l: Record<string, number>) => {
    const h = { ...l };
    for (const k of SIZE_LIMITS) h[k] = Math.max(128 * 1024 * 1024, Math.floor(h[k] / 2 / 4) * 4);
    return h;
  };
  const ladder: (Record<string, number> | undefined)[] = [full, halve(full), halve(halve(full)), undefined];

  let device: GPUDevice | undefined;
  const failures: string[] = [];
  for (const requiredLimits of ladder) {
    try {
      device = await adapter.requestDevice({
        label: opts.label ?? 'lora-playground',
        requiredFeatures,
        requiredLimits,
      });
      break;
    } catch (e) {
      failures.push(String((e as Error)?.message ?? e));
    }
  }
  if (!device) throw new Error(`Could not create a WebGPU device: ${failures.join(' | ')}`);

  const uncapturedErrors: string[] = [];
  device.addEventListener('uncapturederror', (ev) => {
    const msg = `WebGPU error: ${(ev as GPUUncapturedErrorEvent).error.message}`;
    uncapturedErrors.push(msg);
    console.error(msg);
  });
  const lost = device.lost.then((info) => {
    const why = info.reason === 'destroyed' ? 'destroyed' : 'lost';
    // Chromium's own message ends with a period already ("Device was destroyed.").
    const detail = info.message ? `: ${info.message.replace(/\.+$/, '')}` : '';
    return `The GPU device was ${why}${detail}.`;
  });

  const pipelines = new PipelineCache(device);
  const uniforms = new UniformPool(device);
  const d = device;
  let reported = 0;
  const scratch = new Map<string, Tensor>();
  const gpu: Gpu = {
    adapter,
    device,
    limits: device.limits,
    features: new Set(requiredFeatures),
    pipelines,
    uniforms,
    counters: pipelines.counters,
    trace: null,
    bindGroups: new BindGroupCache(device, pipelines.counters),
    lost,
    uncapturedErrors,
    async checkErrors() {
      await pipelines.checkErrors();
      if (uncapturedErrors.length > reported) {
        const fresh = uncapturedErrors.slice(reported);
        reported = uncapturedErrors.length;
        throw new GpuError(fresh.join('\n'));
      }
    },
    scratch(key: string, elements: number): Tensor {
      // One buffer per power-of-two size class: a step asks for the same sizes every time, so it
      // gets the same buffers every time and its cached bind groups stay valid (a buffer replaced by
      // a bigger one would make the next step bind a new one).
      const size = 2 ** Math.ceil(Math.log2(Math.max(elements, 64)));
      const k = `${key}:${size}`;
      let t = scratch.get(k);
      if (!t) scratch.set(k, (t = createTensor(gpu, [size], 'f32', `scratch:${key}`)));
      return { ...t, shape: [elements] };
    },
    destroy() {
      gpu.bindGroups.clear();
      uniforms.destroy();
      for (const t of scratch.values()) t.buffer.destroy();
      d.destroy();
    },
  };
  return gpu;
}

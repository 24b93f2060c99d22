// Bind groups, cached: a training step binds the same buffers at the same offsets every time (the
// activations, weights and gradients of one (B,T) shape, and the same uniform Params slots), so its
// bind groups are made on the first step and reused by every later one. A bind group is keyed by its
// pipeline and, per binding, the GPUBuffer (by identity), byte offset and size.
import type { GpuCounters } from './counters.ts';

export interface BufferRange {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

/**
 * At most this many bind groups are kept; the least recently used go first. Entries for destroyed
 * buffers are never hit again (a new buffer gets a new identity) and age out the same way.
 */
const MAX_BIND_GROUPS = 16384;

export class BindGroupCache {
  private ids = new WeakMap<object, number>();
  private nextId = 1;
  private groups = new Map<string, GPUBindGroup>();
  private layouts = new WeakMap<GPUComputePipeline, GPUBindGroupLayout>();

  constructor(
    readonly device: GPUDevice,
    readonly counters: GpuCounters,
  ) {}

  private id(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }

  /** Bind groups held now (tests check they stay bounded). */
  get size(): number {
    return this.groups.size;
  }

  /**
   * The bind group of `pipeline` with `ranges` at bindings 0.., created (inside whatever error scope
   * is open) only the first time this exact binding is asked for.
   */
  get(pipeline: GPUComputePipeline, label: string, ranges: BufferRange[]): GPUBindGroup {
    let key = String(this.id(pipeline));
    for (const r of ranges) key += `|${this.id(r.buffer)}:${r.offset}:${r.size}`;
    const hit = this.groups.get(key);
    if (hit) {
      // Most recently used goes last (Map keeps insertion order): eviction takes the first.
      this.groups.delete(key);
      this.groups.set(key, hit);
      return hit;
    }
    let layout = this.layouts.get(pipeline);
    if (!layout) this.layouts.set(pipeline, (layout = pipeline.getBindGroupLayout(0)));
    const group = this.device.createBindGroup({
      label,
      layout,
      entries: ranges.map((resource, binding) => ({ binding, resource })),
    });
    this.counters.bindGroups++;
    this.groups.set(key, group);
    if (this.groups.size > MAX_BIND_GROUPS) this.groups.delete(this.groups.keys().next().value!);
    return group;
  }

  clear(): void {
    this.groups.clear();
  }
}

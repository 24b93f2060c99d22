// Recorder: encodes many dispatches into one command encoder (one compute pass between copies),
// gives each dispatch its own uniform Params slot, and submits them all at once. A training step
// is one Recorder: no readback until the loss.
import type { Gpu } from './device.ts';
import type { Kernel, Overrides } from './pipelines.ts';
import { byteLength, describe, type Tensor } from './tensor.ts';
import { PARAMS_SLOT_BYTES, UniformPool, type UniformChunk } from './uniforms.ts';

export interface Dispatch {
  kernel: Kernel;
  overrides?: Overrides;
  /** Bound read_write, at bindings 0..; listed first (llm.c order). */
  outputs: Tensor[];
  /** Bound read-only after the outputs. */
  inputs: Tensor[];
  /** The packed Params struct (see params()), bound last as a uniform; omit if the kernel has none. */
  params?: Uint8Array;
  /** Workgroup counts [x, y?, z?]; a zero count skips the dispatch. */
  workgroups: readonly number[];
}

export class Recorder {
  readonly encoder: GPUCommandEncoder;
  private pass: GPUComputePassEncoder | null = null;
  private chunks: UniformChunk[] = [];
  private submitted = false;
  /** Number of dispatches encoded (handy for tests and benchmarks). */
  dispatches = 0;

  constructor(
    readonly gpu: Gpu,
    readonly label = 'recorder',
  ) {
    this.encoder = gpu.device.createCommandEncoder({ label });
  }

  private computePass(): GPUComputePassEncoder {
    if (this.submitted) throw new Error(`${this.label}: already submitted`);
    if (!this.pass) this.pass = this.encoder.beginComputePass({ label: this.label });
    return this.pass;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  private paramsSlot(data: Uint8Array): GPUBufferBinding {
    let c = this.chunks[this.chunks.length - 1];
    if (!c || c.used === UniformPool.slotsPerChunk) {
      c = this.gpu.uniforms.acquire();
      this.chunks.push(c);
    }
    const offset = c.used * PARAMS_SLOT_BYTES;
    c.shadow.fill(0, offset, offset + PARAMS_SLOT_BYTES);
    c.shadow.set(data, offset);
    c.used++;
    return { buffer: c.buffer, offset, size: PARAMS_SLOT_BYTES };
  }

  /** Checks what WebGPU would reject later with a vaguer message: alignment and buffer aliasing. */
  private checkBindings(d: Dispatch): void {
    const align = this.gpu.limits.minStorageBufferOffsetAlignment;
    for (const t of [...d.outputs, ...d.inputs]) {
      if (t.offset % align !== 0) {
        throw new Error(`${d.kernel.name}: ${describe(t)} is bound at byte offset ${t.offset}, not a multiple of ${align}`);
      }
    }
    for (const o of d.outputs) {
      for (const i of d.inputs) {
        if (o.buffer === i.buffer) {
          throw new Error(
            `${d.kernel.name}: output ${describe(o)} and input ${describe(i)} live in the same GPUBuffer; ` +
              'WebGPU forbids read_write and read-only use of one buffer in a dispatch (give one a buffer of its own)',
          );
        }
      }
    }
    for (let a = 0; a < d.outputs.length; a++) {
      for (let b = a + 1; b < d.outputs.length; b++) {
        const x = d.outputs[a];
        const y = d.outputs[b];
        if (x.buffer === y.buffer && x.offset < y.offset + byteLength(y) && y.offset < x.offset + byteLength(x)) {
          throw new Error(`${d.kernel.name}: outputs ${describe(x)} and ${describe(y)} overlap`);
        }
      }
    }
  }

  /** Encodes one dispatch: bindings are outputs, then inputs, then the Params uniform. */
  dispatch(d: Dispatch): void {
    const [x, y = 1, z = 1] = d.workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    const max = this.gpu.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) {
      throw new Error(`${d.kernel.name}: workgroups [${x},${y},${z}] exceed maxComputeWorkgroupsPerDimension ${max}`);
    }
    this.checkBindings(d);
    const pipeline = this.gpu.pipelines.get(d.kernel, d.overrides);
    const entries: GPUBindGroupEntry[] = [...d.outputs, ...d.inputs].map((t, binding) => ({
      binding,
      resource: { buffer: t.buffer, offset: t.offset, size: byteLength(t) },
    }));
    if (d.params) entries.push({ binding: entries.length, resource: this.paramsSlot(d.params) });
    const pop = this.gpu.pipelines.errors.scope(this.gpu.device, `${d.kernel.name} (${d.kernel.file}) bind group`);
    const bindGroup = this.gpu.device.createBindGroup({
      label: d.kernel.name,
      layout: pipeline.getBindGroupLayout(0),
      entries,
    });
    pop();
    this.gpu.counters.bindGroups++;
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    this.dispatches++;
    this.gpu.counters.dispatches++;
  }

  /** Copies src into dst (same number of bytes). */
  copy(src: Tensor, dst: Tensor): void {
    if (byteLength(src) !== byteLength(dst)) throw new Error(`copy: ${describe(src)} -> ${describe(dst)} sizes differ`);
    this.endPass();
    this.encoder.copyBufferToBuffer(src.buffer, src.offset, dst.buffer, dst.offset, byteLength(src));
  }

  /** Sets every element of t to zero. */
  clear(t: Tensor): void {
    this.endPass();
    this.encoder.clearBuffer(t.buffer, t.offset, byteLength(t));
  }

  /** Ends encoding, writes the Params slots and submits. The Recorder cannot be used afterwards. */
  submit(): void {
    this.endPass();
    this.submitted = true;
    const q = this.gpu.device.queue;
    for (const c of this.chunks) {
      q.writeBuffer(c.buffer, 0, c.shadow, 0, c.used * PARAMS_SLOT_BYTES);
      this.gpu.counters.bytesWritten += c.used * PARAMS_SLOT_BYTES;
    }
    const pop = this.gpu.pipelines.errors.scope(this.gpu.device, `${this.label} (command buffer)`);
    q.submit([this.encoder.finish({ label: this.label })]);
    pop();
    this.gpu.counters.commandBuffers++;
    this.gpu.uniforms.release(this.chunks);
    this.chunks = [];
  }
}

/**
 * Workgroup counts covering n elements with `perGroup` elements per workgroup, folded into y when
 * x would exceed the per-dimension limit. Kernels recover the flat index as
 * (wid.y * num_workgroups.x + wid.x) * WG + lid.x and skip indices >= n.
 */
export function grid1d(n: number, perGroup: number, maxPerDim = 65535): [number, number] {
  const groups = Math.ceil(n / perGroup);
  if (groups <= maxPerDim) return [groups, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y];
}

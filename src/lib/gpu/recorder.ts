// Recorder: collects many dispatches (and the copies and clears between them) for ONE command
// buffer, gives each dispatch its own uniform Params slot, and encodes and submits them all at once
// in submit(). A training step is one Recorder: no readback until the loss.
//
// Encoding waits for submit() so that everything the GPU validates — bind groups, the passes, the
// command buffer — happens inside one error scope per command buffer, and bind groups come from the
// device's cache (gpu/bindgroups.ts): a step that binds what an earlier one bound creates none.
import type { Gpu } from './device.ts';
import type { BufferRange } from './bindgroups.ts';
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

/** One recorded command, encoded in submit(). */
type Command =
  | { kind: 'dispatch'; pipeline: GPUComputePipeline; label: string; ranges: BufferRange[]; groups: [number, number, number] }
  | { kind: 'copy'; src: Tensor; dst: Tensor }
  | { kind: 'clear'; t: Tensor };

export class Recorder {
  private commands: Command[] = [];
  private chunks: UniformChunk[] = [];
  private submitted = false;
  /** Number of dispatches recorded (handy for tests and benchmarks). */
  dispatches = 0;

  constructor(
    readonly gpu: Gpu,
    readonly label = 'recorder',
  ) {}

  private record(c: Command): void {
    if (this.submitted) throw new Error(`${this.label}: already submitted`);
    this.commands.push(c);
  }

  private paramsSlot(data: Uint8Array): BufferRange {
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

  /** Records one dispatch: bindings are outputs, then inputs, then the Params uniform. */
  dispatch(d: Dispatch): void {
    const [x, y = 1, z = 1] = d.workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    if (this.submitted) throw new Error(`${this.label}: already submitted`);
    const max = this.gpu.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) {
      throw new Error(`${d.kernel.name}: workgroups [${x},${y},${z}] exceed maxComputeWorkgroupsPerDimension ${max}`);
    }
    this.checkBindings(d);
    const pipeline = this.gpu.pipelines.get(d.kernel, d.overrides);
    const ranges: BufferRange[] = [...d.outputs, ...d.inputs].map((t) => ({ buffer: t.buffer, offset: t.offset, size: byteLength(t) }));
    if (d.params) ranges.push(this.paramsSlot(d.params));
    this.record({ kind: 'dispatch', pipeline, label: `${d.kernel.name} (${d.kernel.file})`, ranges, groups: [x, y, z] });
    this.dispatches++;
    this.gpu.trace?.(d);
  }

  /** Copies src into dst (same number of bytes). */
  copy(src: Tensor, dst: Tensor): void {
    if (byteLength(src) !== byteLength(dst)) throw new Error(`copy: ${describe(src)} -> ${describe(dst)} sizes differ`);
    this.record({ kind: 'copy', src, dst });
  }

  /** Sets every element of t to zero. */
  clear(t: Tensor): void {
    this.record({ kind: 'clear', t });
  }

  /**
   * Encodes what was recorded (one compute pass between copies), writes the Params slots and
   * submits, all inside one validation error scope. The Recorder cannot be used afterwards.
   */
  submit(): void {
    if (this.submitted) throw new Error(`${this.label}: already submitted`);
    this.submitted = true;
    const { device, counters, bindGroups } = this.gpu;
    const pop = this.gpu.pipelines.errors.scope(device, `${this.label} (command buffer)`);
    try {
      const encoder = device.createCommandEncoder({ label: this.label });
      let pass: GPUComputePassEncoder | null = null;
      const endPass = () => {
        pass?.end();
        pass = null;
      };
      for (const c of this.commands) {
        if (c.kind === 'dispatch') {
          pass ??= encoder.beginComputePass({ label: this.label });
          pass.setPipeline(c.pipeline);
          pass.setBindGroup(0, bindGroups.get(c.pipeline, c.label, c.ranges));
          pass.dispatchWorkgroups(...c.groups);
          counters.dispatches++;
        } else if (c.kind === 'copy') {
          endPass();
          encoder.copyBufferToBuffer(c.src.buffer, c.src.offset, c.dst.buffer, c.dst.offset, byteLength(c.src));
        } else {
          endPass();
          encoder.clearBuffer(c.t.buffer, c.t.offset, byteLength(c.t));
        }
      }
      endPass();
      const q = device.queue;
      for (const c of this.chunks) {
        q.writeBuffer(c.buffer, 0, c.shadow, 0, c.used * PARAMS_SLOT_BYTES);
        counters.bytesWritten += c.used * PARAMS_SLOT_BYTES;
      }
      q.submit([encoder.finish({ label: this.label })]);
      counters.commandBuffers++;
    } finally {
      pop();
      this.gpu.uniforms.release(this.chunks);
      this.chunks = [];
      this.commands = [];
    }
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

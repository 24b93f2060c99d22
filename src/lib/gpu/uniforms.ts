// Uniform params: every kernel reads its shapes from a small `Params` struct. Many dispatches of
// the same pipeline with different shapes go into ONE command buffer, so each dispatch gets its
// own 256-byte slot in a pooled uniform buffer; the slots are written with queue.writeBuffer just
// before the command buffer is submitted (Recorder.submit()).

/** A slot is 256 bytes: minUniformBufferOffsetAlignment, and room for 64 four-byte fields. */
export const PARAMS_SLOT_BYTES = 256;
const SLOTS_PER_CHUNK = 512;

/** One uniform buffer of SLOTS_PER_CHUNK slots plus its host shadow. */
export interface UniformChunk {
  buffer: GPUBuffer;
  shadow: Uint8Array<ArrayBuffer>;
  used: number; // slots handed out
}

export class UniformPool {
  private free: UniformChunk[] = [];
  private all: UniformChunk[] = [];
  constructor(readonly device: GPUDevice) {}

  acquire(): UniformChunk {
    const c = this.free.pop();
    if (c) return c;
    const chunk: UniformChunk = {
      buffer: this.device.createBuffer({
        label: `params#${this.all.length}`,
        size: SLOTS_PER_CHUNK * PARAMS_SLOT_BYTES,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      }),
      shadow: new Uint8Array(SLOTS_PER_CHUNK * PARAMS_SLOT_BYTES),
      used: 0,
    };
    this.all.push(chunk);
    return chunk;
  }

  /**
   * Returns chunks after their contents were written and the command buffer using them was
   * submitted: a later writeBuffer is ordered after that submission on the queue, so reuse is safe.
   */
  release(chunks: UniformChunk[]): void {
    // Pushed last to first, so the next recorder gets them back in the same order: its dispatch i
    // lands in the same slot as this one's, and the cached bind groups match (gpu/bindgroups.ts).
    for (const c of [...chunks].reverse()) {
      c.used = 0;
      this.free.push(c);
    }
  }

  static readonly slotsPerChunk = SLOTS_PER_CHUNK;

  destroy(): void {
    for (const c of this.all) c.buffer.destroy();
    this.all = [];
    this.free = [];
  }
}

/** A Params field that is not a u32. Plain numbers in params() are u32. */
export type ParamField = number | { f32: number } | { i32: number };
export const f32 = (x: number): ParamField => ({ f32: x });
export const i32 = (x: number): ParamField => ({ i32: x });

/**
 * Packs a WGSL Params struct whose fields are all 4-byte scalars, in declaration order:
 * `params(B * T, C, f32(eps))` for `struct Params { N: u32, C: u32, eps: f32 }`.
 */
export function params(...fields: ParamField[]): Uint8Array {
  if (fields.length * 4 > PARAMS_SLOT_BYTES) throw new Error(`params: ${fields.length} fields do not fit in 256 bytes`);
  const buf = new ArrayBuffer(Math.max(16, fields.length * 4));
  const dv = new DataView(buf);
  fields.forEach((f, i) => {
    if (typeof f === 'number') {
      if (!Number.isInteger(f) || f < 0 || f > 0xffffffff) throw new Error(`params: field ${i} = ${f} is not a u32 (use f32()/i32())`);
      dv.setUint32(i * 4, f, true);
    } else if ('f32' in f) dv.setFloat32(i * 4, f.f32, true);
    else dv.setInt32(i * 4, f.i32, true);
  });
  return new Uint8Array(buf);
}

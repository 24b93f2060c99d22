// The bytes of GPUBuffers a device holds: every buffer it created and has not destroyed, and the most
// it held at once since the last reset. The page bench counts every device through the prototypes
// (installLedger in bench.ts); the Node bench wraps its one device (trackDevice).

export class Ledger {
  live = 0;
  peak = 0;
  readonly sizes = new Map<GPUBuffer, number>();
  add(b: GPUBuffer, size: number) {
    this.sizes.set(b, size);
    this.live += size;
    this.peak = Math.max(this.peak, this.live);
  }
  remove(b: GPUBuffer) {
    const size = this.sizes.get(b);
    if (size === undefined) return;
    this.sizes.delete(b);
    this.live -= size;
  }
  /** Starts a new peak from what is alive now. */
  resetPeak() {
    this.peak = this.live;
  }
}

/** Counts the buffers `device` creates from now on (its createBuffer and each buffer's destroy wrapped). */
export function trackDevice(device: GPUDevice): Ledger {
  const ledger = new Ledger();
  const createBuffer = device.createBuffer.bind(device);
  device.createBuffer = (desc: GPUBufferDescriptor) => {
    const buffer = createBuffer(desc);
    ledger.add(buffer, desc.size);
    const destroy = buffer.destroy.bind(buffer);
    buffer.destroy = () => {
      ledger.remove(buffer);
      destroy();
    };
    return buffer;
  };
  return ledger;
}

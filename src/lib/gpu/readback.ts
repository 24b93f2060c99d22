// Readback: copies tensors into one mappable staging buffer with a single submit and map. Used by
// tests and by the training step's one readback per step (loss and nonfinite flag together).
import type { Gpu } from './device.ts';
import { byteLength, type HostArray, type Tensor } from './tensor.ts';

function toHost(t: Tensor, bytes: ArrayBuffer): HostArray {
  switch (t.dtype) {
    case 'f32':
      return new Float32Array(bytes);
    case 'i32':
      return new Int32Array(bytes);
    case 'u32':
      return new Uint32Array(bytes);
  }
}

/** Reads several tensors back in one go; afterwards throws any pending GPU error (gpu.checkErrors). */
export async function readTensors(gpu: Gpu, tensors: Tensor[]): Promise<HostArray[]> {
  const sizes = tensors.map(byteLength);
  const offsets: number[] = [];
  let total = 0;
  for (const s of sizes) {
    offsets.push(total);
    total += Math.ceil(s / 256) * 256;
  }
  const staging = gpu.device.createBuffer({
    label: 'readback',
    size: Math.max(256, total),
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    const enc = gpu.device.createCommandEncoder({ label: 'readback' });
    tensors.forEach((t, i) => {
      if (sizes[i] > 0) enc.copyBufferToBuffer(t.buffer, t.offset, staging, offsets[i], sizes[i]);
    });
    gpu.device.queue.submit([enc.finish()]);
    const mapped = staging.mapAsync(GPUMapMode.READ);
    // If the device is lost the map never settles cleanly; report the loss instead of hanging.
    const lost = gpu.lost.then((msg) => Promise.reject(new Error(msg)));
    await Promise.race([mapped, lost]);
    const range = staging.getMappedRange();
    const out = tensors.map((t, i) => toHost(t, range.slice(offsets[i], offsets[i] + sizes[i])));
    staging.unmap();
    await gpu.checkErrors();
    return out;
  } finally {
    staging.destroy();
  }
}

export async function readTensor(gpu: Gpu, t: Tensor): Promise<HostArray> {
  return (await readTensors(gpu, [t]))[0];
}

/** readTensor for an f32 tensor, typed as such. */
export async function readF32(gpu: Gpu, t: Tensor): Promise<Float32Array> {
  if (t.dtype !== 'f32') throw new Error(`readF32: ${t.label ?? 'tensor'} is ${t.dtype}`);
  return (await readTensor(gpu, t)) as Float32Array;
}

// One shared Gpu per test file: the first call acquires it (in a beforeAll), afterAll destroys it.
import { afterAll, beforeAll } from 'vitest';
import { acquireGpu, createTensor, writeTensor, type DType, type Gpu, type Tensor } from '../../src/lib/gpu/index.ts';

/**
 * Call at the top level of a test file; returns a getter for that file's Gpu.
 *   const gpu = useGpu();
 *   it('...', async () => { const g = gpu(); ... });
 */
export function useGpu(): () => Gpu {
  let gpu: Gpu | undefined;
  beforeAll(async () => {
    gpu = await acquireGpu({ label: 'test' });
  });
  afterAll(() => {
    gpu?.destroy();
    gpu = undefined;
  });
  return () => {
    if (!gpu) throw new Error('useGpu(): the Gpu is only available inside tests (after beforeAll)');
    return gpu;
  };
}

/** A tensor with a buffer of its own, filled from host data (float64 values are rounded to f32). */
export function uploadTensor(gpu: Gpu, data: ArrayLike<number>, shape: readonly number[], dtype: DType = 'f32', label?: string): Tensor {
  const t = createTensor(gpu, shape, dtype, label);
  writeTensor(gpu, t, data);
  return t;
}

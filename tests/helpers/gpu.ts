// One shared Gpu per test file: the first call acquires it (in a beforeAll), afterAll destroys it.
import { afterAll, beforeAll } from 'vitest';
import { acquireGpu, type Gpu } from '../../src/lib/gpu/index.ts';

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

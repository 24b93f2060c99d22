// The engine's GPU fault hook (Engine.injectFault), which the worker's ?debug-gpu-fault test hook
// uses: an injected validation error surfaces as a GpuError naming it at the next readback and leaves
// the engine usable; a lost device rejects pending work with DeviceLost and marks the engine lost.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceLost, Engine } from '../../src/lib/engine.ts';
import { GpuError } from '../../src/lib/gpu/index.ts';
import { FIXTURES, modelFiles } from './fixtures.ts';

let engine: Engine;
beforeAll(async () => {
  // An engine with a device of its own: this file destroys it.
  engine = await Engine.load(modelFiles(join(FIXTURES, 'tiny-smollm2')));
});
afterAll(() => engine?.destroy());

const ids = Int32Array.from([1, 2, 3, 4]);

describe('injected GPU faults', () => {
  it('a validation error fails the next readback with a GpuError that names it; the engine then works again', async () => {
    const before = await engine.logits(ids, 1, ids.length);
    engine.injectFault('validation');
    const failed = await engine.logits(ids, 1, ids.length).then(
      () => null,
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(GpuError);
    expect((failed as Error).message).toMatch(/^injected GPU fault \(debug\): /);
    expect(engine.lost).toBeNull();
    expect(await engine.logits(ids, 1, ids.length)).toEqual(before);
  });

  it('a lost device rejects the pending work with DeviceLost and marks the engine lost', async () => {
    engine.injectFault('lose-device');
    const failed = await engine.whileAlive(engine.logits(ids, 1, ids.length)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(DeviceLost);
    await expect.poll(() => engine.lost).toMatch(/^The GPU device was destroyed/);
  });
});

// Adapter gradients against PyTorch autograd (tests/fixtures/README.md): LoRA, bottleneck and prefix
// tuning on the default model, and LoRA on tiny-qwen3 (Qwen3's per-head q/k norm, head_dim 24 ≠ 64/4);
// fixed non-zero adapter weights, one batch with masked targets. Every trainable tensor's gradient
// must be within 1e-3 relative error (‖g − g_torch‖∞ / ‖g_torch‖∞).
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { createTensor, readF32, Recorder } from '../../src/lib/gpu/index.ts';
import { parseAdapterConfig } from '../../src/lib/peft/config.ts';
import { Model } from '../../src/lib/model/model.ts';
import { encodeGradients } from '../../src/lib/train/step.ts';
import { join } from 'node:path';
import { DEFAULT_MODEL, f32, fixture, fixtureJson, FIXTURES, i32, modelFiles, relError } from './fixtures.ts';

const gpu = useGpu();

// [method, model folder, fixture files' prefix under tests/fixtures]
const CASES: [string, string, string][] = [
  ['lora', DEFAULT_MODEL, ''],
  ['bottleneck', DEFAULT_MODEL, ''],
  ['prefix', DEFAULT_MODEL, ''],
  ['lora', join(FIXTURES, 'tiny-qwen3'), 'tiny-qwen3/'],
];

describe.each(CASES)('%s gradients match PyTorch (%s)', (method, modelDir, prefix) => {
  it('loss and every parameter gradient', async () => {
    const ref = fixture(`${prefix}${method}.safetensors`);
    const config = parseAdapterConfig(fixtureJson(`${prefix}${method}.json`)).method;
    const model = Model.load(gpu(), modelFiles(modelDir));
    try {
      const attached = model.attach(config);
      // The fixture's weights replace the initial ones; every trainable tensor must be in it.
      for (const spec of attached.def.specs) {
        const info = ref.byName.get(spec.name);
        expect(info, `fixture holds ${spec.name}`).toBeDefined();
        const t = attached.def.fromExport(spec.name, info!.shape, f32(ref, spec.name))!;
        attached.params.write(t.name, t.data);
      }
      const [B, T] = ref.byName.get('input_ids')!.shape;
      const lossOut = createTensor(gpu(), [2], 'f32', 'loss');
      const rec = new Recorder(gpu(), 'gradients');
      encodeGradients(rec, model, [{ B, T, ids: i32(ref, 'input_ids'), targets: i32(ref, 'targets') }], lossOut);
      rec.submit();
      const [loss] = await readF32(gpu(), lossOut);
      const flat = await attached.grads.readAll();
      let worst = { name: '', err: 0 };
      for (const spec of attached.def.specs) {
        const err = relError(attached.grads.extract(flat, spec.name), f32(ref, `${spec.name}.grad`));
        if (!(err <= worst.err)) worst = { name: spec.name, err };
      }
      const wantLoss = f32(ref, 'loss')[0];
      console.log(`${prefix}${method}: loss ${loss} vs ${wantLoss}; worst gradient ${worst.name} rel err ${worst.err.toExponential(2)} over ${attached.def.specs.length} tensors`);
      expect(Math.abs(loss - wantLoss)).toBeLessThanOrEqual(1e-5 * Math.max(1, wantLoss));
      expect(worst.err).toBeLessThanOrEqual(1e-3);
      lossOut.buffer.destroy();
    } finally {
      model.destroy();
    }
  });
});

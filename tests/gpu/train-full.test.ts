// Full fine-tuning gradients, checked two independent ways on the tiny architectures:
//  1. projections: with a LoRA branch whose B is zero, PEFT's gradient is dB = scaling · dW · Aᵀ where
//     dW is the full-fine-tuning gradient of the same weight (and dA = 0);
//  2. everything else (embeddings, learned positions, norms — Qwen3's q/k norms among them —, biases,
//     untied lm_head): directional derivatives along a random direction, against central differences.
// And gradient accumulation: two micro-batches give the mean of their gradients.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { createTensor, readF32, Recorder } from '../../src/lib/gpu/index.ts';
import { loraKeys } from '../../src/lib/adapters/lora.ts';
import { Model } from '../../src/lib/model/model.ts';
import type { Batch } from '../../src/lib/data/batches.ts';
import { encodeGradients } from '../../src/lib/train/step.ts';
import { FIXTURES, modelFiles, relError, lora } from './fixtures.ts';
import { createRng } from '../../src/lib/random.ts';

const gpu = useGpu();

function batch(V: number, B: number, T: number, seed: number): Batch {
  const rand = createRng(seed);
  const ids = Int32Array.from({ length: B * T }, () => Math.floor(rand() * V));
  const targets = Int32Array.from({ length: B * T }, (_, i) => (i % T < 3 ? -100 : Math.floor(rand() * V)));
  return { B, T, ids, targets };
}

async function gradients(model: Model, b: Batch | Batch[]): Promise<Float32Array> {
  const batches = Array.isArray(b) ? b : [b];
  const loss = createTensor(gpu(), [2 * batches.length]);
  const rec = new Recorder(gpu(), 'grads');
  encodeGradients(rec, model, batches, loss);
  rec.submit();
  model.transformer.releaseTransient();
  await readF32(gpu(), loss);
  loss.buffer.destroy();
  return model.attached!.grads.readAll();
}

describe.each(['tiny-qwen2', 'tiny-qwen3', 'tiny-gpt2'])('full fine-tuning gradients (%s)', (name) => {
  it('projection weights agree with LoRA\'s dB = scaling·dW·Aᵀ', async () => {
    const model = Model.load(gpu(), modelFiles(join(FIXTURES, name)));
    try {
      const b = batch(model.cfg.vocabSize, 2, 16, 1);
      model.attach({ peft_type: 'FULL' });
      const full = model.attached!;
      const G = full.grads;
      const gFlat = await gradients(model, b);
      const targets = model.cfg.family === 'gpt2' ? ['c_attn', 'c_proj', 'c_fc'] : ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
      const dW = new Map(model.arch.params.filter((p) => p.shape.length === 2).map((p) => [p.name, { shape: p.shape, g: G.extract(gFlat, p.name) }]));
      model.attach(lora(3, 6, targets), 5);
      const attached = model.attached!;
      const pFlat = await attached.params.readAll();
      const lFlat = await gradients(model, b);
      let worst = 0;
      let checked = 0;
      for (const spec of attached.def.specs.filter((s) => s.name.endsWith('lora_B.weight'))) {
        const module = spec.name.slice('base_model.model.'.length, -'.lora_B.weight'.length);
        const A = attached.params.extract(pFlat, loraKeys(module).A); // (r,in)
        const { shape: [out, inF], g } = dW.get(`${module}.weight`)!; // (out,in)
        const want = new Float64Array(out * 3);
        for (let o = 0; o < out; o++) for (let j = 0; j < 3; j++) {
          let s = 0;
          for (let i = 0; i < inF; i++) s += g[o * inF + i] * A[j * inF + i];
          want[o * 3 + j] = 2 * s; // scaling = alpha/r = 2
        }
        worst = Math.max(worst, relError(attached.grads.extract(lFlat, spec.name), want));
        expect(attached.grads.extract(lFlat, loraKeys(module).A).every((x) => x === 0)).toBe(true);
        checked++;
      }
      console.log(`${name}: dB vs scaling·dW·Aᵀ worst rel err ${worst.toExponential(2)} over ${checked} projections`);
      expect(checked).toBeGreaterThan(0);
      expect(worst).toBeLessThanOrEqual(1e-3);
    } finally {
      model.destroy();
    }
  });

  it('every other parameter group: directional derivative matches central differences', async () => {
    const model = Model.load(gpu(), modelFiles(join(FIXTURES, name)));
    try {
      const b = batch(model.cfg.vocabSize, 2, 16, 2);
      model.attach({ peft_type: 'FULL' });
      const { params, grads } = model.attached!;
      const theta = await params.readAll();
      const g = await gradients(model, b);
      const groups: Record<string, (n: string, shape: number[]) => boolean> = {
        embedding: (n) => n === model.arch.wte,
        positions: (n) => n === model.arch.wpe,
        norms: (n, s) => s.length === 1 && /norm|ln_/.test(n),
        qk_norms: (n) => /\.(q|k)_norm\./.test(n), // Qwen3's alone too: their share of `norms` is small
        biases: (n, s) => s.length === 1 && !/norm|ln_/.test(n),
        lm_head: (n) => n === 'lm_head.weight',
      };
      for (const [group, inGroup] of Object.entries(groups)) {
        const specs = model.arch.params.filter((p) => inGroup(p.name, p.shape));
        if (specs.length === 0) continue;
        const rand = createRng(group.length);
        const D = new Float32Array(theta.length);
        let gd = 0;
        for (const s of specs) {
          const d = Float32Array.from({ length: s.shape.reduce((a, c) => a * c, 1) }, () => rand() * 2 - 1);
          params.insert(D, s.name, d);
          const gs = grads.extract(g, s.name);
          for (let i = 0; i < d.length; i++) gd += gs[i] * d[i];
        }
        const lossAt = async (step: number) => {
          params.writeAll(theta.map((x, i) => x + step * D[i]));
          return model.loss(b.ids, b.targets, b.B, b.T);
        };
        // Central differences at h and h/2, Richardson-extrapolated: the O(h²) error cancels, so h
        // can stay large enough for float32 losses to resolve the difference.
        const central = async (h: number) => ((await lossAt(h)) - (await lossAt(-h))) / (2 * h);
        const h = 1e-2;
        const numeric = (4 * (await central(h / 2)) - (await central(h))) / 3;
        params.writeAll(theta);
        const err = Math.abs(numeric - gd) / Math.max(Math.abs(gd), 1e-3);
        console.log(`${name} ${group}: analytic ${gd.toExponential(4)} numeric ${numeric.toExponential(4)} rel err ${err.toExponential(2)}`);
        expect(err).toBeLessThanOrEqual(5e-3);
      }
    } finally {
      model.destroy();
    }
  });
});

describe('full fine-tuning with gradient accumulation (tiny-qwen3)', () => {
  it('two micro-batches give the mean of their gradients for every weight, the final norm included', async () => {
    const model = Model.load(gpu(), modelFiles(join(FIXTURES, 'tiny-qwen3')));
    try {
      const [b1, b2] = [batch(model.cfg.vocabSize, 2, 16, 3), batch(model.cfg.vocabSize, 2, 16, 4)];
      model.attach({ peft_type: 'FULL' });
      const G = model.attached!.grads;
      const [g1, g2, g12] = [await gradients(model, b1), await gradients(model, b2), await gradients(model, [b1, b2])];
      let worst = { name: '', err: 0 };
      for (const p of model.arch.params) {
        const a = G.extract(g1, p.name);
        const b = G.extract(g2, p.name);
        const err = relError(G.extract(g12, p.name), Float64Array.from(a, (x, i) => (x + b[i]) / 2));
        if (err > worst.err) worst = { name: p.name, err };
      }
      console.log(`gradient accumulation: worst rel err ${worst.err.toExponential(2)} (${worst.name})`);
      expect(worst.err).toBeLessThanOrEqual(1e-5);
    } finally {
      model.destroy();
    }
  });
});

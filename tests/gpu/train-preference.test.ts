// Preference objectives end to end on the default model against PyTorch (tests/fixtures/dpo-*.json,
// models/recipe/fixtures.py): the adapters of lora/bottleneck/prefix.safetensors on a batch of three
// pairs; the engine's per-row log-probs with the adapter (the policy) and without it (the reference),
// every objective's loss (≤ 1e-4) and the adapter gradients (≤ 1e-3 relative, ‖g − g_torch‖∞ /
// ‖g_torch‖∞ per tensor). Then what "reference = adapter off" means bit for bit: a freshly attached
// LoRA or bottleneck adapter gives the bare base's log-probs exactly, so a run's first DPO loss is ln 2
// whatever β, with every reward exactly 0. And a head split into chunks computes the same as one.
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { createTensor, readF32, Recorder } from '../../src/lib/gpu/index.ts';
import { parseAdapterConfig } from '../../src/lib/peft/config.ts';
import { Model } from '../../src/lib/model/model.ts';
import { Engine } from '../../src/lib/engine.ts';
import type { Batch } from '../../src/lib/data/batches.ts';
import { defaultMethod, defaultObjective, defaultTrainConfig } from '../../src/lib/train/config.ts';
import type { ObjectiveConfig } from '../../src/lib/train/objective.ts';
import { metricsOf, sequenceLogps } from '../../src/lib/train/preference.ts';
import { encodeGradients, readoutWidth } from '../../src/lib/train/step.ts';
import * as ref from '../../src/lib/ops/preference/reference.ts';
import { createRng } from '../../src/lib/random.ts';
import { DEFAULT_MODEL, f32, fixture, fixtureJson, FIXTURES, i32, lora, modelFiles, randomizeLoraB, relError } from './fixtures.ts';
import { join } from 'node:path';

const gpu = useGpu();

interface DpoFixture {
  adapter: string;
  weights: string;
  losses: Record<string, ObjectiveConfig>;
  gradients: string[];
}

/** The fixture's batch of pairs (rows 2k chosen, 2k+1 rejected), with its reference log-probs. */
function fixtureBatch(file: ReturnType<typeof fixture>): Batch {
  const [B, T] = file.byName.get('input_ids')!.shape;
  return { B, T, ids: i32(file, 'input_ids'), targets: i32(file, 'targets'), reference: f32(file, 'reference') };
}

describe.each(['lora', 'bottleneck', 'prefix'])('%s: preference losses and gradients match PyTorch', (method) => {
  it('log-probs with and without the adapter, every objective\'s loss, and the gradients', async () => {
    const spec = fixtureJson<DpoFixture>(`dpo-${method}.json`);
    const file = fixture(`dpo-${method}.safetensors`);
    const weights = fixture(spec.weights);
    const config = parseAdapterConfig(fixtureJson(spec.adapter)).method;
    const model = Model.load(gpu(), modelFiles(DEFAULT_MODEL));
    try {
      const batch = fixtureBatch(file);
      const counts = Float64Array.from({ length: batch.B }, (_, r) => batch.targets.subarray(r * batch.T, (r + 1) * batch.T).filter((t) => t !== -100).length);

      // The reference: the base with nothing attached.
      const reference = await sequenceLogps(model, [batch]);
      const refErr = relError(reference, f32(file, 'reference'));
      const attached = model.attach(config);
      for (const s of attached.def.specs) {
        const t = attached.def.fromExport(s.name, weights.byName.get(s.name)!.shape, f32(weights, s.name))!;
        attached.params.write(t.name, t.data);
      }
      const policy = await sequenceLogps(model, [batch]);
      const policyErr = relError(policy, f32(file, 'logps'));
      console.log(`${method}: log-probs rel err: reference ${refErr.toExponential(2)}, policy ${policyErr.toExponential(2)}`);
      expect(refErr).toBeLessThanOrEqual(1e-5);
      expect(policyErr).toBeLessThanOrEqual(1e-5);

      for (const [name, objective] of Object.entries(spec.losses)) {
        const W = readoutWidth(objective);
        const out = createTensor(gpu(), [W], 'f32', 'readout');
        const rec = new Recorder(gpu(), `dpo ${name}`);
        encodeGradients(rec, model, [batch], out, { objective });
        rec.submit();
        const r = await readF32(gpu(), out);
        out.buffer.destroy();
        const loss = r[2 + ref.STATS.loss];
        const want = f32(file, `loss.${name}`)[0];
        // The metrics are the reference op's on PyTorch's log-probs (the op itself is tested in tests/ops).
        const sums = Float64Array.from(f32(file, 'logps'), (x) => -x);
        const wantStats = ref.forward(sums, counts, Float64Array.from(batch.reference!), settingsOf(objective)).stats;
        const metrics = metricsOf(r, 2);
        const wantMetrics = metricsOf(wantStats);
        let gradErr = 'not in the fixture';
        let worst = 0;
        if (spec.gradients.includes(name)) {
          const flat = await attached.grads.readAll();
          let at = '';
          for (const s of attached.def.specs) {
            const err = relError(attached.grads.extract(flat, s.name), f32(file, `${s.name}.grad.${name}`));
            if (!(err <= worst)) [worst, at] = [err, s.name];
          }
          gradErr = `${worst.toExponential(2)} (${at})`;
        }
        console.log(`${method} ${name}: loss ${loss} vs PyTorch ${want} (|diff| ${Math.abs(loss - want).toExponential(2)}); worst gradient rel err ${gradErr}`);
        expect(Math.abs(loss - want)).toBeLessThanOrEqual(1e-4);
        expect(worst).toBeLessThanOrEqual(1e-3);
        for (const [k, v] of Object.entries(metrics)) expect(Math.abs(v - wantMetrics[k as keyof typeof metrics]), k).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(v)));
        expect(r[2 + ref.STATS.pairs]).toBe(batch.B / 2);
      }
    } finally {
      model.destroy();
    }
  }, 600_000); // three model passes per objective and the gradients: minutes on SwiftShader when the machine is shared
});

function settingsOf(o: ObjectiveConfig): ref.PreferenceSettings {
  switch (o.type) {
    case 'dpo':
      return { kind: o.loss_type, beta: o.beta, gamma: 0, smoothing: o.label_smoothing };
    case 'simpo':
      return { kind: 'simpo', beta: o.beta, gamma: o.simpo_gamma, smoothing: 0 };
    case 'orpo':
      return { kind: 'orpo', beta: o.beta, gamma: 0, smoothing: 0 };
    default:
      throw new Error('not a preference objective');
  }
}

describe('the reference is the adapter switched off, bit for bit', () => {
  it('a fresh LoRA or bottleneck adapter gives the bare base\'s log-probs exactly, and a first DPO step of exactly ln 2 whatever β', async () => {
    const engine = await Engine.load(modelFiles(DEFAULT_MODEL), { gpu: gpu() });
    try {
      const file = fixture('dpo-lora.safetensors');
      const three = fixtureBatch(file);
      // Four pairs (the fixture's three and its first again): the mean of four equal losses is exact.
      const T = three.T;
      const ids = new Int32Array(8 * T);
      const targets = new Int32Array(8 * T);
      ids.set(three.ids);
      ids.set(three.ids.subarray(0, 2 * T), 6 * T);
      targets.set(three.targets);
      targets.set(three.targets.subarray(0, 2 * T), 6 * T);
      const batch: Batch = { B: 8, T, ids, targets };

      engine.detach();
      const base = await engine.sequenceLogps([batch]);
      for (const type of ['LORA', 'BOTTLENECK'] as const) {
        engine.attach(defaultMethod(type), 7);
        const fresh = await engine.sequenceLogps([batch]);
        expect(Array.from(fresh), `${type}: log-probs with a fresh adapter`).toEqual(Array.from(base));
        const losses: number[] = [];
        for (const beta of [0.1, 0.5]) {
          engine.attach(defaultMethod(type), 7);
          engine.startTraining(defaultTrainConfig(type), { ...defaultObjective('dpo'), beta });
          const r = await engine.trainStep([{ ...batch, reference: base }], 1e-3);
          expect(r.metrics).toBeDefined();
          const m = r.metrics!;
          expect([m['rewards/chosen'], m['rewards/rejected'], m['rewards/margins'], m['rewards/accuracies']], `${type} β ${beta}: rewards`).toEqual([0, 0, 0, 0]);
          losses.push(r.loss);
        }
        console.log(`${type}: first DPO loss ${losses.join(', ')} (ln 2 in float32: ${Math.fround(Math.LN2)})`);
        expect(losses).toEqual([Math.fround(Math.LN2), Math.fround(Math.LN2)]);
      }
    } finally {
      engine.destroy();
    }
  });
});

describe('a batch whose counted rows do not fit the classifier in one chunk', () => {
  it('gives the same loss, metrics and gradients as one chunk (the backward recomputes each chunk\'s logits)', async () => {
    const tiny = modelFiles(join(FIXTURES, 'tiny-smollm2'));
    const V = 384;
    // 8 rows (4 pairs) of 40 positions, the last 30 of each counted: 240 rows for the classifier.
    const [B, T] = [8, 40];
    const rand = createRng(3);
    const ids = Int32Array.from({ length: B * T }, () => Math.floor(rand() * V));
    const targets = Int32Array.from({ length: B * T }, (_, i) => (i % T < 10 ? -100 : Math.floor(rand() * V)));
    const reference = Float32Array.from({ length: B }, () => -80 - 20 * rand());
    const run = async (headBytes: number | undefined) => {
      const model = Model.load(gpu(), tiny, { headBytes });
      try {
        const a = model.attach(lora(4, 8, ['q_proj', 'v_proj', 'down_proj']), 1);
        await randomizeLoraB(a, createRng(4), 0.2);
        const objective = defaultObjective('dpo');
        const out = createTensor(gpu(), [readoutWidth(objective)], 'f32', 'readout');
        const rec = new Recorder(gpu(), 'chunks');
        encodeGradients(rec, model, [{ B, T, ids, targets, reference }], out, { objective });
        rec.submit();
        const r = await readF32(gpu(), out);
        out.buffer.destroy();
        return { headRows: model.activations(B, T, true).headRows, stats: r, grads: await a.grads.readAll() };
      } finally {
        model.destroy();
      }
    };
    const one = await run(undefined);
    const chunked = await run(64 * V * 4); // 64 rows a chunk: four chunks
    expect(one.headRows).toBe(B * T);
    expect(chunked.headRows).toBe(64);
    const err = relError(chunked.grads, one.grads);
    console.log(`chunked head: loss ${chunked.stats[2]} vs ${one.stats[2]}; gradients rel err ${err.toExponential(2)}`);
    expect(Array.from(chunked.stats)).toEqual(Array.from(one.stats));
    expect(err).toBeLessThanOrEqual(1e-6);
  });
});

describe('gradient accumulation over micro-batches of pairs', () => {
  it('gives the mean of the micro-batches\' gradients, and each one\'s loss and metrics', async () => {
    const V = 384;
    const [B, T] = [4, 12];
    const batchOf = (seed: number): Batch => {
      const rand = createRng(seed);
      return {
        B,
        T,
        ids: Int32Array.from({ length: B * T }, () => Math.floor(rand() * V)),
        targets: Int32Array.from({ length: B * T }, (_, i) => (i % T < 4 ? -100 : Math.floor(rand() * V))),
        reference: Float32Array.from({ length: B }, () => -40 - 10 * rand()),
      };
    };
    const model = Model.load(gpu(), modelFiles(join(FIXTURES, 'tiny-smollm2')));
    try {
      const a = model.attach(lora(2, 4, ['q_proj', 'v_proj']), 1);
      await randomizeLoraB(a, createRng(5), 0.2);
      const objective: ObjectiveConfig = { type: 'dpo', beta: 0.3, loss_type: 'robust', label_smoothing: 0.1 };
      const W = readoutWidth(objective);
      const step = async (bs: Batch[]) => {
        const out = createTensor(gpu(), [W * bs.length], 'f32', 'readout');
        const rec = new Recorder(gpu(), 'accumulation');
        encodeGradients(rec, model, bs, out, { objective });
        rec.submit();
        const r = await readF32(gpu(), out);
        out.buffer.destroy();
        return { r, g: await a.grads.readAll() };
      };
      const [b1, b2] = [batchOf(6), batchOf(7)];
      const one = await step([b1]);
      const two = await step([b2]);
      const both = await step([b1, b2]);
      expect(one.g.some((x) => x !== 0) && two.g.some((x) => x !== 0)).toBe(true);
      const err = relError(both.g, one.g.map((x, i) => (x + two.g[i]) / 2));
      console.log(`preference accumulation: rel err vs the mean of the micro-batch gradients ${err.toExponential(2)}`);
      expect(err).toBeLessThanOrEqual(1e-5);
      expect(Array.from(both.r)).toEqual([...one.r, ...two.r]);
    } finally {
      model.destroy();
    }
  });
});

// The reward model against PyTorch (tests/fixtures/reward-lora.json, models/recipe/fixtures.py): the
// LoRA of lora.safetensors plus a seeded score head (LlamaForSequenceClassification's
// Linear(hidden, 1, bias=False) on the last token's final hidden state) on the DPO batch of three
// pairs. The engine's last tokens and rewards, TRL RewardTrainer's loss −log σ(r⁺ − r⁻ − margin) with
// and without a margin (≤ 1e-4), and the gradients of every LoRA tensor and of the head (≤ 1e-3
// relative, ‖g − g_torch‖∞ / ‖g_torch‖∞ per tensor).
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { createTensor, readF32, Recorder } from '../../src/lib/gpu/index.ts';
import { parseAdapterConfig } from '../../src/lib/peft/config.ts';
import { withScoreHead } from '../../src/lib/adapters/config.ts';
import { SCORE_KEY } from '../../src/lib/adapters/score.ts';
import { lastTokens, Model } from '../../src/lib/model/model.ts';
import type { Batch } from '../../src/lib/data/batches.ts';
import { sequenceRewards } from '../../src/lib/train/preference.ts';
import { encodeGradients, readoutWidth } from '../../src/lib/train/step.ts';
import { STATS } from '../../src/lib/ops/preference/reference.ts';
import { DEFAULT_MODEL, f32, fixture, fixtureJson, i32, modelFiles, relError } from './fixtures.ts';

const gpu = useGpu();

describe('reward model: rewards, loss and gradients match PyTorch', () => {
  it('LoRA + score head on three pairs', async () => {
    const spec = fixtureJson<{ adapter: string; weights: string; margin: number }>('reward-lora.json');
    const file = fixture('reward-lora.safetensors');
    const weights = fixture(spec.weights);
    const method = withScoreHead(parseAdapterConfig(fixtureJson(spec.adapter)).method);
    const model = Model.load(gpu(), modelFiles(DEFAULT_MODEL));
    try {
      const [B, T] = file.byName.get('input_ids')!.shape;
      const batch: Batch = { B, T, ids: i32(file, 'input_ids'), targets: i32(file, 'targets') };
      expect(Array.from(lastTokens(batch.targets, B, T), (n, b) => n - b * T)).toEqual(Array.from(i32(file, 'last')));

      const attached = model.attach(method);
      for (const s of attached.def.specs) {
        const from = s.name === SCORE_KEY ? file : weights;
        const t = attached.def.fromExport(s.name, from.byName.get(s.name)!.shape, f32(from, s.name))!;
        attached.params.write(t.name, t.data);
      }
      const rewards = await sequenceRewards(model, [batch]);
      const rewardErr = relError(rewards, f32(file, 'rewards'));
      expect(rewardErr).toBeLessThanOrEqual(1e-4);

      const lossOf = async (margin: number) => {
        const objective = { type: 'reward', margin } as const;
        const out = createTensor(gpu(), [readoutWidth(objective)], 'f32', 'readout');
        const rec = new Recorder(gpu(), 'reward step');
        encodeGradients(rec, model, [batch], out, { objective });
        rec.submit();
        const r = await readF32(gpu(), out);
        out.buffer.destroy();
        return r;
      };
      const plain = await lossOf(0);
      const r = await lossOf(spec.margin); // last: the gradients read below are this loss's
      const flat = await attached.grads.readAll();
      let worst = 0;
      let at = '';
      for (const s of attached.def.specs) {
        const err = relError(attached.grads.extract(flat, s.name), f32(file, `${s.name}.grad`));
        if (!(err <= worst)) [worst, at] = [err, s.name];
      }
      const headErr = relError(attached.grads.extract(flat, SCORE_KEY), f32(file, `${SCORE_KEY}.grad`));
      const want = f32(file, 'loss')[0];
      const wantPlain = f32(file, 'loss.nomargin')[0];
      const loss = r[2 + STATS.loss];
      console.log(
        `reward-lora: rewards rel err ${rewardErr.toExponential(2)}; loss ${loss} vs PyTorch ${want} (|diff| ${Math.abs(loss - want).toExponential(2)}), ` +
          `no margin ${plain[2 + STATS.loss]} vs ${wantPlain}; worst gradient rel err ${worst.toExponential(2)} (${at}), head ${headErr.toExponential(2)}`,
      );
      expect(Math.abs(loss - want)).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(plain[2 + STATS.loss] - wantPlain)).toBeLessThanOrEqual(1e-4);
      expect(worst).toBeLessThanOrEqual(1e-3);
      // the head's gradient is among those checked, and it is not zero
      expect(headErr).toBeLessThanOrEqual(1e-3);
      expect(Math.max(...f32(file, `${SCORE_KEY}.grad`).map(Math.abs))).toBeGreaterThan(0);
      // TRL's accuracy: the share of pairs whose chosen reward is higher
      const want3 = f32(file, 'rewards');
      const acc = [0, 1, 2].filter((k) => want3[2 * k] > want3[2 * k + 1]).length / 3;
      expect(r[2 + STATS.accuracies]).toBeCloseTo(acc, 6);
      expect(r[2 + STATS.pairs]).toBe(3);
    } finally {
      model.destroy();
    }
  }, 600_000); // a forward and two training passes: about two minutes on SwiftShader, more when the machine is shared
});

// The objective next to the method and the training config (train/objective.ts): TRL's defaults are
// valid, every bad setting is named, and a plan on preference pairs counts its batches and steps in
// pairs, refuses pairs for SFT and plain data for DPO, and carries its objective to the run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDatasetText, PREFERENCE_NOTE, prepareTraining } from '../../src/lib/data';
import { parseModelConfig } from '../../src/lib/model/config';
import { objectiveProblems } from '../../src/lib/train/checks';
import { DEFAULTS, defaultMethod, defaultObjective, type TrainConfig } from '../../src/lib/train/config';
import { estimateTrainingMemory } from '../../src/lib/train/memory';
import { describeObjective, isPreference, needsReference, OBJECTIVE_TYPES, SFT } from '../../src/lib/train/objective';
import { buildTrainingPlan, planProblems, type PlanInput } from '../../src/lib/train/plan';
import { exportProblems } from '../../src/lib/export/run';
import { DEFAULT_MODEL, ROOT } from '../gpu/fixtures';
import { byteTokenizer } from './data-fake-tokenizer';

const cfg = parseModelConfig(readFileSync(join(DEFAULT_MODEL, 'config.json'), 'utf8'));
const tok = byteTokenizer();

describe('objectives', () => {
  it("TRL's defaults are valid, and only the preference objectives (the reward model's included) train on pairs; only DPO needs a reference", () => {
    for (const type of OBJECTIVE_TYPES) expect(objectiveProblems(defaultObjective(type))).toEqual([]);
    expect(defaultObjective('dpo')).toEqual({ type: 'dpo', beta: 0.1, loss_type: 'sigmoid', label_smoothing: 0 });
    expect(OBJECTIVE_TYPES.map((t) => isPreference(t))).toEqual([false, true, true, true, true]);
    expect(OBJECTIVE_TYPES.map((t) => needsReference(defaultObjective(t)))).toEqual([false, true, false, false, false]);
    expect(defaultObjective('reward')).toEqual({ type: 'reward', margin: 0 });
    expect(objectiveProblems({ type: 'reward', margin: -1 })).toEqual(["the reward model's margin must be from 0 to 1000 (got -1)"]);
    expect(describeObjective({ type: 'dpo', beta: 0.2, loss_type: 'robust', label_smoothing: 0.1 })).toBe('DPO (robust, β 0.2, ε 0.1)');
    expect(DEFAULTS.objectives.simpo).toEqual({ type: 'simpo', beta: 2, simpo_gamma: 0.5 });
  });

  it('names every bad setting', () => {
    const dpo = defaultObjective('dpo');
    expect(objectiveProblems({ ...dpo, beta: 0 })).toEqual(["DPO's beta must be above 0 and at most 1000 (got 0)"]);
    expect(objectiveProblems({ ...dpo, loss_type: 'hinge' as never })).toEqual(["DPO's loss type must be sigmoid, ipo, robust (got hinge)"]);
    expect(objectiveProblems({ ...dpo, loss_type: 'robust', label_smoothing: 0.5 })).toEqual(['label smoothing is the share of flipped labels: at least 0 and below 0.5 (got 0.5)']);
    expect(objectiveProblems({ ...dpo, label_smoothing: 0.1 })[0]).toMatch(/changes only the robust loss/);
    expect(objectiveProblems({ ...defaultObjective('simpo'), simpo_gamma: -1 })[0]).toMatch(/SimPO's gamma/);
    expect(objectiveProblems({ type: 'kto' } as never)[0]).toMatch(/must be one of sft, dpo, simpo, orpo/);
  });
});

describe('a plan on preference pairs', () => {
  const prefs = readFileSync(join(ROOT, 'tests/fixtures/preferences.jsonl'), 'utf8');
  const config: TrainConfig = { ...DEFAULTS.training, per_device_train_batch_size: 4, max_length: 32, max_steps: -1, num_train_epochs: 2 };
  const input = async (text: string, name: string, objective = SFT): Promise<PlanInput> => {
    const parsed = await parseDatasetText(text, name);
    const prepared = await prepareTraining({ train: parsed, tokenizer: tok, seqLen: 32 });
    return {
      model: { id: 'brown-llama-4m', config: cfg },
      name,
      prepared,
      sourceExamples: parsed.examples,
      chatTemplate: null,
      padId: 0,
      skippedRecords: 0,
      method: defaultMethod('LORA'),
      objective,
      config,
    };
  };

  it('counts the batch and the epochs in pairs and estimates memory for two rows a pair', async () => {
    const plan = buildTrainingPlan(await input(prefs, 'preferences.jsonl', defaultObjective('dpo')));
    expect(plan.objective).toEqual(defaultObjective('dpo'));
    expect(plan.data.train.pairs).toBe(true);
    expect(plan.data.train.rows).toBe(36); // 18 pairs after the automatic split
    expect(plan.steps).toBe(2 * Math.ceil(18 / 4));
    expect(plan.estimate.memoryBytes).toBe(estimateTrainingMemory(cfg, plan.method, 8, 32).total);
    expect(exportProblems(plan, { baseModel: 'x/y', gpus: 1 })).toEqual([
      "DPO (sigmoid, β 0.1) cannot be exported yet: the export writes TRL's supervised fine-tuning run (trl sft), not its preference trainers",
    ]);
  });

  it('refuses pairs with SFT and plain data with DPO, and names a bad objective', async () => {
    expect(planProblems(await input(prefs, 'preferences.jsonl'))).toEqual([PREFERENCE_NOTE]);
    const pc = '{"prompt": "a", "completion": " b"}\n{"prompt": "c", "completion": " d"}\n';
    expect(planProblems(await input(pc, 'pc.jsonl', defaultObjective('orpo')))).toEqual([
      'ORPO (λ 0.1) trains on preference pairs {prompt, chosen, rejected}; this dataset is {prompt, completion} data',
    ]);
    expect(planProblems(await input(prefs, 'preferences.jsonl', { ...defaultObjective('simpo'), beta: -2 }))).toEqual([
      "SimPO's beta must be above 0 and at most 1000 (got -2)",
    ]);
  });
});

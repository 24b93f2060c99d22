// The page's preference-training state: the objective picker (TRL's settings from the one defaults
// object, following the kind of data), "Continue from adapter", the pair preview's pairs, the metric
// curves and summary of a preference run, and what the training screen sends and keeps for one.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findModel } from '../../src/lib/base/catalog.ts';
import { DatasetState } from '../../src/ui/dataset/dataset.svelte.ts';
import { PREFERENCE_REASON } from '../../src/ui/dataset/names.ts';
import { loadPageTokenizer, type PageTokenizer } from '../../src/ui/dataset/page-tokenizer.ts';
import type { ObjectiveType } from '../../src/lib/train/objective.ts';
import { parseDatasetText, prepareTraining } from '../../src/lib/data';
import { defaultMethod, DEFAULTS } from '../../src/lib/train/config.ts';
import type { PreferenceMetrics } from '../../src/lib/train/objective.ts';
import type { TrainingPlan } from '../../src/lib/train/plan.ts';
import type { EngineClient, Task } from '../../src/lib/worker/client.ts';
import type { LossAt, TrainRequest, TrainUpdate, WorkerEvent } from '../../src/lib/worker/protocol.ts';
import { pairText, viewPairs } from '../../src/ui/dataset/pairs.ts';
import { parseModelConfig } from '../../src/lib/model/config.ts';
import { estimateTrainingMemory } from '../../src/lib/train/memory.ts';
import { MethodState } from '../../src/ui/method/method.svelte.ts';
import { ObjectiveState } from '../../src/ui/method/objective.svelte.ts';
import { StartFromState, startProblem } from '../../src/ui/method/start-from.svelte.ts';
import { formatMetric, metricSeries, preferenceSummary } from '../../src/ui/train/metrics.ts';
import { runName } from '../../src/ui/train/run.ts';
import { TrainState } from '../../src/ui/train/train.svelte.ts';
import { byteTokenizer } from './data-fake-tokenizer.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('ObjectiveState', () => {
  it('starts every objective at the defaults object and hands the plan a copy of the current one', () => {
    const o = new ObjectiveState();
    expect(o.current).toEqual({ type: 'sft' });
    o.setType('dpo');
    expect(o.current).toEqual(DEFAULTS.objectives.dpo);
    o.dpo.beta = 0.5;
    expect(o.current).toEqual({ ...DEFAULTS.objectives.dpo, beta: 0.5 });
    const copy = o.current as { beta: number };
    copy.beta = 9;
    expect(o.dpo.beta).toBe(0.5);
    o.setType('simpo');
    expect(o.current).toEqual(DEFAULTS.objectives.simpo);
    o.setType('dpo');
    expect(o.current).toEqual({ ...DEFAULTS.objectives.dpo, beta: 0.5 }); // kept while away
    o.reset();
    expect(o.current).toEqual(DEFAULTS.objectives.dpo);
  });

  it('names a setting out of TRL’s range', () => {
    const o = new ObjectiveState();
    o.setType('dpo');
    o.dpo.label_smoothing = 0.2;
    expect(o.problems.join()).toMatch(/label smoothing changes only the robust loss/);
    o.dpo.loss_type = 'robust';
    expect(o.problems).toEqual([]);
    o.setType('orpo');
    o.orpo.beta = 0;
    expect(o.problems.join()).toMatch(/ORPO's beta must be above 0/);
  });

  it('follows the kind of data: pairs bring back the preference objective used last, other data SFT', () => {
    const o = new ObjectiveState();
    o.followData(null);
    expect(o.type).toBe('sft');
    o.followData(true);
    expect(o.type).toBe('dpo');
    o.setType('orpo');
    o.followData(true); // the same kind again: the user's pick stands
    expect(o.type).toBe('orpo');
    o.followData(false);
    expect(o.type).toBe('sft');
    o.followData(true);
    expect(o.type).toBe('orpo');
    o.setType('sft'); // a deliberate mismatch stays until the kind of data changes
    o.followData(true);
    expect(o.type).toBe('sft');
  });
});

describe('MethodState under a preference objective', () => {
  it('estimates memory for two rows per pair, and takes a saved adapter’s method exactly as its config has it', () => {
    const cfg = parseModelConfig(readFileSync(join(ROOT, 'models/brown-llama-4m/config.json'), 'utf8'));
    let pairs = false;
    const m = new MethodState(() => pairs);
    m.setModel('brown-llama-4m', cfg);
    const B = m.config.per_device_train_batch_size;
    expect(m.memory).toEqual(estimateTrainingMemory(cfg, m.current, B, m.config.max_length));
    pairs = true;
    const p = new MethodState(() => pairs);
    p.setModel('brown-llama-4m', cfg);
    expect(p.memory).toEqual(estimateTrainingMemory(cfg, p.current, 2 * B, p.config.max_length));
    const saved = { peft_type: 'BOTTLENECK' as const, placement: ['mlp' as const], bottleneck_size: 4, non_linearity: 'silu' as const };
    p.useAdapterMethod(saved);
    expect(p.type).toBe('BOTTLENECK');
    expect(JSON.stringify(p.current)).toBe(JSON.stringify(saved));
  });
});

describe('StartFromState', () => {
  const lora = { ...defaultMethod('LORA'), r: 4, target_modules: ['q_proj', 'v_proj'] };
  const meta = { id: 'a1', name: 'SFT pirate', baseModel: 'brown-llama-4m' };

  it('reads the adapter’s method, hands it to the method panel and keeps the adapter as the starting point', async () => {
    const used: unknown[] = [];
    const s = new StartFromState((m) => used.push(m), async () => ({ method: lora, baseModel: 'brown-llama-4m' }));
    await s.pick(meta, 'brown-llama-4m');
    expect(used).toEqual([lora]);
    expect(s.adapter).toEqual({ id: 'a1', name: 'SFT pirate', method: lora, baseModel: 'brown-llama-4m' });
    expect(s.error).toBeNull();
    await s.pick(null, 'brown-llama-4m');
    expect(s.adapter).toBeNull();
  });

  it('refuses an adapter of another base model before reading it, and says why a read failed', async () => {
    let reads = 0;
    const s = new StartFromState(() => {}, async () => {
      reads++;
      throw new Error('no such adapter');
    });
    expect(startProblem(meta, 'other-model')).toMatch(/trained on brown-llama-4m, not the loaded other-model/);
    expect(startProblem({ ...meta, baseModel: null }, 'other-model')).toBeNull();
    await s.pick(meta, 'other-model');
    expect(reads).toBe(0);
    expect(s.error).toMatch(/not the loaded other-model/);
    await s.pick(meta, 'brown-llama-4m');
    expect(reads).toBe(1);
    expect([s.adapter, s.error]).toEqual([null, 'Cannot continue SFT pirate: no such adapter']);
  });

  it('drops a starting adapter that was deleted from the list, and says so', async () => {
    const s = new StartFromState(() => {}, async () => ({ method: lora, baseModel: null }));
    await s.pick(meta, null);
    s.follow([{ id: 'a1', name: 'SFT pirate' }, { id: 'b', name: 'other' }]);
    expect(s.adapter?.id).toBe('a1');
    s.follow([{ id: 'b', name: 'other' }]);
    expect(s.adapter).toBeNull();
    expect(s.error).toMatch(/SFT pirate was deleted/);
  });
});

describe('the dataset screen with a preference file', () => {
  let t: PageTokenizer;
  beforeAll(async () => {
    t = await loadPageTokenizer(findModel('brown-llama-4m')!, { localModels: join(ROOT, 'models') });
  }, 60_000);

  it('prepares it as pairs, ready for a preference objective and refused for SFT with the reason', async () => {
    let objective: ObjectiveType = 'dpo';
    const d = new DatasetState(
      () => 16,
      () => objective,
    );
    await d.setTokenizer(t);
    await d.openFiles([{ name: 'preferences.jsonl', bytes: readFileSync(join(ROOT, 'tests/fixtures/preferences.jsonl')) }]);
    expect(d.prepared?.format).toBe('preference');
    expect(d.prepared?.train.packed.pairs).toBe(true);
    expect(d.readiness).toEqual([]);
    expect(d.viewPairs).toHaveLength(20);
    expect(d.viewPairs[0].text?.prompt).toBe('The color of the sky is');
    objective = 'sft';
    expect(d.readiness).toEqual([PREFERENCE_REASON]);
  });
});

describe('the pair preview', () => {
  it('puts each pair’s chosen and rejected sequences side by side with its prompt and answers as text', async () => {
    const text = readFileSync(join(ROOT, 'tests/fixtures/preferences.jsonl'), 'utf8');
    const parsed = await parseDatasetText(text, 'preferences.jsonl');
    const prepared = await prepareTraining({ train: parsed, tokenizer: byteTokenizer(), seqLen: 64 });
    const pairs = viewPairs(prepared, parsed.examples);
    const n = (prepared.train.examples.length + (prepared.validation?.examples.length ?? 0)) / 2;
    expect(pairs).toHaveLength(n);
    expect(pairs.filter((p) => p.split === 'validation')).toHaveLength((prepared.validation?.examples.length ?? 0) / 2);
    for (const p of pairs) {
      expect([p.chosen.pair, p.rejected.pair]).toEqual(['chosen', 'rejected']);
      expect(p.text).not.toBeNull();
      // The prompt's tokens come first in both and never count; the answer's do.
      const promptLength = new TextEncoder().encode(p.text!.prompt).length;
      for (const ex of [p.chosen, p.rejected]) {
        expect(Array.from(ex.trainable.subarray(0, promptLength)).every((f) => f === 0)).toBe(true);
        expect(Array.from(ex.trainable.subarray(promptLength)).some((f) => f === 1)).toBe(true);
      }
    }
    const first = parsed.examples.find((e) => pairs[0].where.unit === 'line' && e.where.unit === 'line' && e.where.index === pairs[0].where.index)!;
    expect(pairs[0].text).toEqual(pairText(first));
    expect(viewPairs(null, parsed.examples)).toEqual([]);
  });

  it('gives an implicit prompt and conversational pairs as text', () => {
    const where = { file: 'p.jsonl', unit: 'line' as const, index: 1, line: 1 };
    expect(pairText({ where, format: 'preference', prompt: null, chosen: 'The sky is blue.', rejected: 'The sky is green.' })).toEqual({
      prompt: 'The sky is',
      chosen: ' blue.',
      rejected: ' green.',
    });
    const user = { role: 'user' as const, content: 'Hi?' };
    expect(
      pairText({ where, format: 'preference', prompt: [user], chosen: [{ role: 'assistant', content: 'Hello!' }], rejected: [{ role: 'assistant', content: 'Go.' }] }),
    ).toEqual({ prompt: 'user: Hi?', chosen: 'assistant: Hello!', rejected: 'assistant: Go.' });
    expect(pairText({ where, format: 'text', text: 'x' })).toBeNull();
  });
});

const metrics = (margin: number, accuracy: number): PreferenceMetrics => ({
  'rewards/chosen': margin / 2,
  'rewards/rejected': -margin / 2,
  'rewards/margins': margin,
  'rewards/accuracies': accuracy,
  'logps/chosen': -3,
  'logps/rejected': -4,
  nll_loss: 3,
});

describe('a preference run’s metrics on the training screen', () => {
  const train: LossAt[] = [
    { step: 1, loss: 0.69, metrics: metrics(0.01, 0.5) },
    { step: 2, loss: 0.6, metrics: metrics(0.2, 0.75) },
  ];
  const validation: LossAt[] = [
    { step: 0, loss: Math.LN2, metrics: metrics(0, 0) },
    { step: 2, loss: 0.62, metrics: metrics(0.15, 0.875) },
  ];

  it('draws one metric per curve, and nothing for an SFT run', () => {
    expect(metricSeries(train, 'rewards/margins')).toEqual([
      { step: 1, loss: 0.01 },
      { step: 2, loss: 0.2 },
    ]);
    expect(metricSeries(validation, 'rewards/accuracies')).toEqual([
      { step: 0, loss: 0 },
      { step: 2, loss: 0.875 },
    ]);
    expect(metricSeries([{ step: 1, loss: 2 }], 'rewards/margins')).toEqual([]);
  });

  it('states where the run ended under TRL’s names', () => {
    const s = preferenceSummary(train, validation);
    expect(s).toContain('rewards/margins 0.2000 on the last training batch, 0.1500 on the validation pairs');
    expect(s).toContain('rewards/accuracies 0.75 on the last training batch, 0.88 on the validation pairs');
    expect(s).toContain('rewards/chosen 0.1000');
    expect(s).toContain('rewards/rejected -0.1000');
    expect(preferenceSummary([{ step: 1, loss: 2 }], [])).toBe('');
    expect(formatMetric('rewards/margins', undefined)).toBe('–');
  });
});

/** An EngineClient stand-in that records requests and lets the test send the run's updates. */
function fakeClient() {
  const requests: { kind: string; payload: TrainRequest; emit: (e: WorkerEvent) => void; resolve: (v: unknown) => void }[] = [];
  const client = {
    request(kind: string, payload: TrainRequest, onEvent?: (e: WorkerEvent) => void) {
      let resolve!: (v: unknown) => void;
      const result = new Promise((ok) => (resolve = ok));
      requests.push({ kind, payload, emit: (e) => onEvent?.(e), resolve });
      return { id: requests.length, result, cancel() {} } as Task<unknown>;
    },
  } as unknown as EngineClient;
  return { client, requests };
}

describe('TrainState for a preference run', () => {
  const plan = {
    steps: 2,
    method: defaultMethod('LORA'),
    objective: DEFAULTS.objectives.dpo,
    data: { name: 'preferences.jsonl' },
  } as unknown as TrainingPlan;

  it('names the adapter by its objective, sends the adapter it continues, and keeps the metrics of every point', async () => {
    expect(runName(plan)).toBe('LoRA r8 DPO · preferences.jsonl');
    expect(runName({ ...plan, objective: { type: 'sft' } })).toBe('LoRA r8 · preferences.jsonl');
    const { client, requests } = fakeClient();
    const t = new TrainState(client, null, { list: async () => [], remove: async () => {} });
    const done = t.start(plan, { id: 'sft-1', name: 'SFT pirate' });
    expect(t.objective).toBe('dpo');
    expect(requests[0].payload.fromAdapterId).toBe('sft-1');
    expect(t.fromAdapter).toEqual({ id: 'sft-1', name: 'SFT pirate' });
    const say = (update: TrainUpdate) => requests[0].emit({ type: 'train', id: 1, update });
    say({ kind: 'start', step: 0, totalSteps: 2, history: { train: [], validation: [] }, trainableParams: 10, rows: 16, validationRows: 4, batch: 4, seqLen: 16, objective: 'dpo' });
    say({ kind: 'validation', step: 0, loss: Math.LN2, metrics: metrics(0, 0) });
    say({ kind: 'step', step: 1, totalSteps: 2, loss: 0.69, lr: 1e-3, tokens: 128, elapsedMs: 10, metrics: metrics(0.01, 0.5) });
    say({ kind: 'step', step: 2, totalSteps: 2, loss: 0.6, lr: 1e-3, tokens: 256, elapsedMs: 20, metrics: metrics(0.2, 0.75) });
    expect(metricSeries(t.train, 'rewards/accuracies')).toEqual([
      { step: 1, loss: 0.5 },
      { step: 2, loss: 0.75 },
    ]);
    expect(metricSeries(t.validation, 'rewards/margins')).toEqual([{ step: 0, loss: 0 }]);
    requests[0].resolve({ status: 'finished', step: 2, totalSteps: 2, message: 'done', adapterId: 'dpo-1', checkpointStep: 2 });
    await done;
    expect(t.phase).toBe('finished');
    // A fresh run without a starting adapter sends none.
    void t.start({ ...plan, objective: { type: 'sft' } } as TrainingPlan);
    expect(requests[1].payload.fromAdapterId).toBeNull();
    expect([t.objective, t.fromAdapter]).toEqual(['sft', null]);
  });
});

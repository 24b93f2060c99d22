// The New model panel's and the Forgetting view's state, driven without a worker (a stand-in answers
// requests with the events a real worker sends) and with fake-indexeddb for the kept models: what a
// pretraining request carries, how its events become curves and samples, which settings block it;
// the "task loss … · general text ppl …" line and the runs side by side.

import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { EngineClient, Task } from '../../src/lib/worker/client.ts';
import type { PretrainRequest, PretrainResult, TrainResult, TrainUpdate, WorkerEvent } from '../../src/lib/worker/protocol.ts';
import type { TrainingPlan } from '../../src/lib/train/plan.ts';
import { defaultMethod, DEFAULTS } from '../../src/lib/train/config.ts';
import { PRESETS, parameterCount } from '../../src/lib/pretrain/create.ts';
import { pretrainRows, pretrainTexts } from '../../src/lib/pretrain/data.ts';
import { parseDatasetText } from '../../src/lib/data/parse.ts';
import { listZip } from '../../src/lib/peft/zip.ts';
import { deleteModel, listModels, saveModel } from '../../src/lib/store/models.ts';
import { NewModelState, type NewModelSources } from '../../src/ui/newmodel/new-model.svelte.ts';
import { MadeModels, modelZip } from '../../src/ui/newmodel/made-models.svelte.ts';
import { ForgettingState, forgettingLine, forgettingRow } from '../../src/ui/train/forgetting.svelte.ts';
import { earlierRun } from '../../src/ui/train/run.ts';
import { TrainState } from '../../src/ui/train/train.svelte.ts';
import { byteTokenizer } from './data-fake-tokenizer.ts';

/** An EngineClient stand-in: each request's payload, its event handler and a way to end it. */
function fakeClient() {
  const requests: { kind: string; payload: unknown; emit: (e: WorkerEvent) => void; resolve: (v: unknown) => void; cancelled: boolean }[] = [];
  const client = {
    request(kind: string, payload: unknown, onEvent?: (e: WorkerEvent) => void): Task<unknown> {
      let resolve!: (v: unknown) => void;
      const result = new Promise<unknown>((ok) => (resolve = ok));
      const entry = { kind, payload, emit: onEvent ?? (() => {}), resolve, cancelled: false };
      requests.push(entry);
      return { id: requests.length, result, cancel: () => (entry.cancelled = true) };
    },
  } as unknown as EngineClient;
  return { client, requests };
}

const PARAGRAPHS = Array.from({ length: 20 }, (_, i) => `Paragraph ${i} says something about the jury and the county, line ${i}.`).join('\n\n');

function sources(over: Partial<NewModelSources> = {}): NewModelSources {
  return { tokenizer: async () => byteTokenizer(), brownText: async () => PARAGRAPHS, baseModel: () => 'brown-llama-4m', localModels: 'http://x/models/', ...over };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('pretraining text', () => {
  it('takes plain text and {text} records, names a file of other records, and splits paragraphs with the one seeded split', async () => {
    const md = await parseDatasetText('# Title\n\nFirst paragraph.\n\nSecond one.', 'notes.txt');
    const jsonl = await parseDatasetText('{"text": "A line of text."}\n{"text": "Another."}\n', 'lines.jsonl');
    const qa = await parseDatasetText('{"prompt": "Q", "completion": "A"}\n', 'qa.jsonl');
    expect(pretrainTexts([md, jsonl]).problems).toEqual([]);
    expect(pretrainTexts([md, jsonl]).texts).toEqual(['# Title', 'First paragraph.', 'Second one.', 'A line of text.', 'Another.']);
    expect(pretrainTexts([qa]).problems).toEqual(['qa.jsonl: 1 of 1 records are not plain text (prompt-completion data): pretraining reads .txt, .md or {"text"} JSONL']);

    const rows = pretrainRows([PARAGRAPHS], byteTokenizer(), 32, 0);
    expect(rows.note).toBe('2 of 20 paragraphs held out for validation (automatic split, seed 0)');
    expect(rows.train.T).toBe(32);
    expect(rows.train.countedTokens).toBeGreaterThan((rows.train.rows - 1) * 32); // plain text packed end to end: only the last row has padding
    expect(rows.validation.rows).toBeGreaterThan(0);
    expect(() => pretrainRows(['one paragraph only'], byteTokenizer(), 32, 0)).toThrow('at least two paragraphs');
  });
});

describe('NewModelState', () => {
  it('is blocked, with reasons, by a model other than the shipped one, impossible sizes and a row longer than the context', () => {
    let base: string | null = 'SmolLM2-135M-Instruct';
    const s = new NewModelState(fakeClient().client, sources({ baseModel: () => base }));
    expect(s.blockers).toEqual(['a new model with the shipped tokenizer needs brown-llama-4m as the loaded model (SmolLM2-135M-Instruct is), or train a tokenizer on the text']);
    s.tokenizer = 'bpe';
    expect(s.blockers).toEqual([]); // a trained tokenizer needs no loaded model
    s.vocabSize = 100;
    expect(s.blockers).toEqual(['the vocabulary size must be a whole number from 259 (3 special tokens and the 256 bytes) to 65,536, got 100']);
    expect(s.parameters).toBeNull();
    s.vocabSize = 512;
    expect(s.parameters).toBe(parameterCount(PRESETS['1m'], 512));
    s.tokenizer = 'shipped';
    expect(s.parameters).toBe(parameterCount(PRESETS['1m'], 4096));
    base = 'brown-llama-4m';
    expect(s.blockers).toEqual([]);
    s.preset = 'custom';
    s.custom = { ...PRESETS['1m'], hidden: 130 };
    expect(s.blockers).toContain('width 130 is not a multiple of heads 4');
    expect(s.parameters).toBeNull();
    s.custom = { ...PRESETS['1m'], context: 64 };
    expect(s.blockers).toEqual(['the sequence length 128 is longer than the model\'s context 64']);
    s.source = 'files';
    s.seqLen = 64;
    expect(s.blockers).toEqual(['add text files (.txt, .md or {"text"} JSONL), or pick the built-in Brown slice']);
  });

  it('reads dropped files (Markdown as plain text); a file of other records blocks the run by name', async () => {
    const s = new NewModelState(fakeClient().client, sources());
    await s.addFiles([new File(['# Notes\n\nSome text.\n\nMore text.'], 'notes.md'), new File(['{"prompt":"Q","completion":"A"}\n'], 'qa.jsonl')]);
    expect(s.source).toBe('files');
    expect(s.files?.names).toEqual(['notes.md', 'qa.jsonl']);
    expect(s.blockers).toEqual(['qa.jsonl: 1 of 1 records are not plain text (prompt-completion data): pretraining reads .txt, .md or {"text"} JSONL']);
  });

  it('sends the architecture, pretraining settings and packed rows; follows loss, samples and the kept model', async () => {
    const { client, requests } = fakeClient();
    const s = new NewModelState(client, sources());
    s.preset = '0.1m';
    s.steps = 4;
    s.seqLen = 32;
    s.batch = 2;
    s.sampleEvery = 2;
    s.seed = 3;
    const done = s.start();
    expect(s.phase).toBe('preparing');
    await tick();
    await tick();
    expect(requests.map((r) => r.kind)).toEqual(['pretrain']);
    const p = requests[0].payload as PretrainRequest;
    expect(p.architecture).toEqual(PRESETS['0.1m']);
    expect(p.config).toMatchObject({ learning_rate: DEFAULTS.pretraining.learning_rate, max_steps: 4, warmup_steps: 3, per_device_train_batch_size: 2, max_length: 32, seed: 3 });
    expect(p.steps).toBe(4);
    if (p.data.tokenizer !== 'shipped') throw new Error(`the rows were not packed by the page: ${p.data.tokenizer}`);
    expect(p.data.train.T).toBe(32);
    expect(p.data.validation.rows).toBeGreaterThan(0);
    expect(p.sample).toMatchObject({ every: 2, prompt: 'The' });
    expect(p.name).toBe('New 0.1m model');
    expect(s.dataNote).toContain('2 of 20 paragraphs held out');

    const say = (update: TrainUpdate) => requests[0].emit({ type: 'train', id: 1, update });
    say({ kind: 'start', step: 0, totalSteps: 4, history: { train: [], validation: [] }, trainableParams: parameterCount(PRESETS['0.1m']), rows: 10, validationRows: 1, batch: 2, seqLen: 32, objective: 'sft' });
    say({ kind: 'validation', step: 0, loss: 8.3 });
    say({ kind: 'step', step: 1, totalSteps: 4, loss: 8.2, lr: 1e-3, tokens: 64, elapsedMs: 100 });
    say({ kind: 'step', step: 2, totalSteps: 4, loss: 7.1, lr: 2e-3, tokens: 128, elapsedMs: 200 });
    say({ kind: 'sample', step: 2, text: 'The the the' });
    expect(s.phase).toBe('training');
    expect(s.train.map((x) => x.loss)).toEqual([8.2, 7.1]);
    expect(s.validation).toEqual([{ step: 0, loss: 8.3 }]);
    expect(s.generations).toEqual([{ step: 2, text: 'The the the' }]);
    expect(s.tokensPerSecond).toBeCloseTo(640, 6);
    expect(s.etaMs).toBeCloseTo(200, 6);
    requests[0].resolve({ status: 'finished', step: 4, message: 'Trained 4 steps.', modelId: 'm1' } satisfies PretrainResult);
    await done;
    expect(s.phase).toBe('finished');
    expect(s.modelId).toBe('m1');
    expect(s.message).toBe('Trained 4 steps. Kept as “New 0.1m model” in this browser.');
    expect(s.finishedRuns).toBe(1);
  });

  it('with a trained tokenizer sends the text and vocabulary size, and follows the tokenizer\'s progress before the run\'s', async () => {
    const { client, requests } = fakeClient();
    let pageTokenizerUsed = false;
    const s = new NewModelState(client, sources({ baseModel: () => null, tokenizer: async () => ((pageTokenizerUsed = true), byteTokenizer()) }));
    s.preset = '0.1m';
    s.tokenizer = 'bpe';
    s.vocabSize = 1024;
    s.seqLen = 32;
    const done = s.start();
    await tick();
    await tick();
    const p = requests[0].payload as PretrainRequest;
    expect(p.data).toEqual({ tokenizer: 'bpe', vocabSize: 1024, texts: [PARAGRAPHS] });
    expect(pageTokenizerUsed).toBe(false);
    expect(s.tokenizerProgress).toBe(0);
    requests[0].emit({ type: 'status', id: 1, stage: 'tokenizer', message: 'Training a byte-level BPE tokenizer of 1,024 tokens on 18 paragraphs…' });
    requests[0].emit({ type: 'progress', id: 1, file: 'tokenizer', loaded: 191, total: 765, unit: 'merges' });
    expect(s.stage).toBe('Training a byte-level BPE tokenizer of 1,024 tokens on 18 paragraphs…');
    expect(s.tokenizerProgress).toBeCloseTo(191 / 765, 12);
    expect(s.phase).toBe('preparing');
    requests[0].emit({ type: 'status', id: 1, stage: 'data', message: '12 train rows and 1 validation rows of 32 tokens; 2 of 20 paragraphs held out for validation (automatic split, seed 0)' });
    expect(s.dataNote).toBe('12 train rows and 1 validation rows of 32 tokens; 2 of 20 paragraphs held out for validation (automatic split, seed 0)');
    requests[0].resolve({ status: 'finished', step: 1, message: 'Trained 1 step.', modelId: 'm2' } satisfies PretrainResult);
    await done;
    expect(s.phase).toBe('finished');
  });

  it('names a failure to read the text and sends nothing', async () => {
    const { client, requests } = fakeClient();
    const s = new NewModelState(client, sources({ brownText: async () => { throw new Error('HTTP 404'); } }));
    await s.start();
    expect(s.phase).toBe('error');
    expect(s.error).toBe('HTTP 404');
    expect(requests).toEqual([]);
  });
});

describe('made models', () => {
  it('are kept in IndexedDB with unique names, listed newest first, zipped as a folder and deleted', async () => {
    const files = [{ name: 'config.json', data: '{}' }, { name: 'model.safetensors', data: new Uint8Array([1, 2, 3]) }];
    const base = { architecture: PRESETS['0.1m'], parameters: 1, seed: 0, initializerRange: 0.02, dataset: 'd', steps: 2, trainLoss: 1, valLoss: 2, files };
    const a = await saveModel({ ...base, name: 'Tiny' });
    await new Promise((r) => setTimeout(r, 2));
    const b = await saveModel({ ...base, name: 'Tiny' });
    expect(b.name).toBe('Tiny (2)');
    const made = new MadeModels();
    await made.refresh();
    expect(made.list.map((m) => m.id)).toEqual([b.id, a.id]);
    expect(made.list[0].files[1].data).toEqual(new Uint8Array([1, 2, 3]));

    const zip = modelZip(made.list[0]);
    expect(zip.fileName).toBe('Tiny-2.zip');
    expect(listZip(zip.bytes).map((e) => [e.name, e.size])).toEqual([['Tiny-2/config.json', 2], ['Tiny-2/model.safetensors', 3]]);

    await made.remove(a.id);
    expect(made.list.map((m) => m.id)).toEqual([b.id]);
    expect(await deleteModel(a.id)).toBe(false);
    await deleteModel(b.id);
    expect(await listModels()).toEqual([]);
  });
});

describe('forgetting', () => {
  it('says what a run learnt next to what it forgot', () => {
    expect(forgettingLine({ before: 5.6, after: 0.12 }, { before: Math.log(90), after: Math.log(142) })).toBe('task loss 0.120 (was 5.600) · general text ppl 142.0 (was 90.0)');
    expect(forgettingLine(null, { before: Math.log(90), after: Math.log(90) })).toBe('general text ppl 90.0 (was 90.0)');
    expect(forgettingLine(null, null)).toBe('');
  });

  it('puts a kept run in a row: method, trainable parameters, task loss and general perplexity before and after', () => {
    const plan = { steps: 10, method: defaultMethod('LORA'), data: { name: 'pirate.jsonl' } } as unknown as TrainingPlan;
    const history = { train: [], validation: [{ step: 0, loss: 3 }, { step: 10, loss: 1 }] };
    const run = earlierRun({ runId: 'r', step: 10, savedAt: 0, history, run: { plan, adapterName: 'LoRA r8 · pirate.jsonl', adapterId: 'a', trainableParams: 16384, generalLoss: { before: Math.log(100), after: Math.log(120) } } })!;
    const row = forgettingRow(run);
    expect(row).toMatchObject({ name: 'LoRA r8 · pirate.jsonl', trainableParams: 16384, steps: 10, task: { before: 3, after: 1 } });
    expect(row.method).toMatch(/^LoRA r 8/);
    expect(row.generalPpl!.before).toBeCloseTo(100, 9);
    expect(row.generalPpl!.ratio).toBeCloseTo(1.2, 9);
    expect(forgettingRow(earlierRun({ runId: 'r', step: 10, savedAt: 0, run: { plan, adapterName: 'x', adapterId: null } })!).generalPpl).toBeNull();
  });

  it('packs the general text for every run unless unticked, and names why it could not', async () => {
    let tok: ReturnType<typeof byteTokenizer> | null = byteTokenizer();
    let fail = true;
    const f = new ForgettingState(() => tok, async () => {
      if (fail) throw new Error('HTTP 500');
      return PARAGRAPHS;
    });
    expect(f.measure).toBe(true);
    f.measure = false;
    expect(await f.rows(32)).toBeNull();
    expect(f.problem).toBeNull();
    f.measure = true;
    tok = null;
    expect(await f.rows(32)).toBeNull();
    expect(f.problem).toBe('the model’s tokenizer has not loaded, so the general text was not measured');
    tok = byteTokenizer();
    expect(await f.rows(32)).toBeNull();
    expect(f.problem).toBe('the general text was not measured: HTTP 500');
    fail = false;
    const rows = (await f.rows(32))!;
    expect(f.problem).toBeNull();
    expect(rows.T).toBe(32);
    expect(rows.countedTokens).toBeGreaterThan((rows.rows - 1) * 32);
  });

  it('a fresh run carries the general rows to the worker, and its general events make the line', async () => {
    const { client, requests } = fakeClient();
    const t = new TrainState(client, null, { list: async () => [], remove: async () => {} });
    const general = pretrainRows([PARAGRAPHS], byteTokenizer(), 16, 0).train;
    t.generalRows = () => Promise.resolve(general);
    const plan = { steps: 2, method: defaultMethod('LORA'), data: { name: 'pirate.jsonl' }, config: { max_length: 16 } } as unknown as TrainingPlan;
    const done = t.start(plan);
    await tick();
    expect((requests[0].payload as { general: unknown }).general).toBe(general);
    const say = (update: TrainUpdate) => requests[0].emit({ type: 'train', id: 1, update });
    say({ kind: 'general', step: 0, loss: Math.log(90), before: null });
    say({ kind: 'validation', step: 0, loss: 5.6 });
    say({ kind: 'validation', step: 2, loss: 0.12 });
    expect(t.forgetting).toBe('');
    say({ kind: 'general', step: 2, loss: Math.log(142), before: Math.log(90) });
    expect(t.forgetting).toBe('task loss 0.120 (was 5.600) · general text ppl 142.0 (was 90.0)');
    requests[0].resolve({ status: 'finished', step: 2, totalSteps: 2, message: 'Trained 2 steps.', adapterId: 'a', checkpointStep: 2 } satisfies TrainResult);
    await done;
  });
});

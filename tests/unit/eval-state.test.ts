// The Evaluate panel's state (ui/eval/evaluate.svelte.ts) with a stand-in worker: which columns it plans
// and what it sends for each, progress, the table sorted by the change from the base, predictions.jsonl
// (the command line's lines), cancellation that keeps finished columns, and errors that name the column.
import { describe, expect, it } from 'vitest';
import type { Example } from '../../src/lib/data';
import type { EvalOutcome } from '../../src/lib/eval/evaluate.ts';
import { exampleScores, totals } from '../../src/lib/eval/metrics.ts';
import { EngineClient, type WorkerLike } from '../../src/lib/worker/client.ts';
import type { Request, RequestOf, WorkerEvent } from '../../src/lib/worker/protocol.ts';
import { EvalState, type EvalInputs } from '../../src/ui/eval/evaluate.svelte.ts';
import { byteTokenizer, chatml } from './data-fake-tokenizer.ts';

class Wire implements WorkerLike {
  readonly sent: Request[] = [];
  private listeners: ((event: MessageEvent<WorkerEvent>) => void)[] = [];
  postMessage(message: unknown): void {
    this.sent.push(message as Request);
  }
  addEventListener(type: 'message' | 'error', listener: unknown): void {
    if (type === 'message') this.listeners.push(listener as (event: MessageEvent<WorkerEvent>) => void);
  }
  terminate(): void {}
  answer(event: WorkerEvent): void {
    for (const l of this.listeners) l({ data: event } as MessageEvent<WorkerEvent>);
  }
  /** The evaluateExamples requests sent so far. */
  evals(): RequestOf<'evaluateExamples'>[] {
    return this.sent.filter((r): r is RequestOf<'evaluateExamples'> => r.kind === 'evaluateExamples');
  }
}

const where = (index: number) => ({ file: 'qa.jsonl', unit: 'line' as const, index, line: index });
const pc = (i: number, prompt: string, completion: string): Example => ({ where: where(i), format: 'prompt-completion', prompt, completion });
const train = [pc(1, 'Q: sea?\nA:', ' salt'), pc(2, 'Q: cat?\nA:', ' meow'), pc(3, 'Q: dog?\nA:', ' woof')];
const validation = [pc(4, 'Q: sun?\nA:', ' star'), pc(5, 'Q: moon?\nA:', ' rock'), pc(6, 'Q: sky?\nA:', ' blue')];

function inputs(over: Partial<EvalInputs> = {}): () => EvalInputs {
  return () => ({
    split: { name: 'qa', train, validation },
    tokenizer: { tokenizer: byteTokenizer(), chatTemplate: chatml, maxPositions: 256 },
    adapters: [{ id: 'a1', name: 'pirate' }],
    ...over,
  });
}

/** An outcome whose row i has loss losses[i] over 4 tokens and prediction predictions[i]. */
function outcome(losses: number[], prediction = ' star'): EvalOutcome {
  const rows = losses.map((loss, index) => ({
    index,
    where: validation[index].where,
    prompt: 'p',
    reference: validation[index].format === 'prompt-completion' ? validation[index].completion : null,
    prediction,
    shots: 0,
    ...exampleScores({ lossSum: loss * 4, tokens: 4, correct: 2 }, { prediction, reference: validation[index].format === 'prompt-completion' ? validation[index].completion : '' }),
  }));
  return { rows, totals: totals(rows), tokensPerSecond: 10 };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('EvalState', () => {
  it('says what is missing before it can run', () => {
    const s = new EvalState(null, inputs({ split: null, tokenizer: null }));
    expect(s.blockers).toEqual(['load a model', 'load a dataset: its held-out split is the test set']);
    const t = new EvalState(null, inputs());
    t.includeBase = false;
    expect(t.blockers).toEqual(['choose at least one column']);
    t.source = 'file';
    expect(t.blockers[0]).toBe('choose a test file');
  });

  it('plans the base, each chosen adapter and the k-shot base on the held-out split; the zero-shot columns share their items', () => {
    const s = new EvalState(null, inputs());
    s.adapterIds = ['a1'];
    s.shotsOn = true;
    s.k = 2;
    const cols = s.planned.columns;
    expect(cols.map((c) => [c.name, c.adapterId, c.shots])).toEqual([
      ['base', null, 0],
      ['pirate', 'a1', 0],
      ['2-shot base', null, 2],
    ]);
    expect(cols[1].prepared.items).toBe(cols[0].prepared.items);
    expect(cols[0].prepared.items.map((i) => i.reference)).toEqual([' star', ' rock', ' blue']);
    expect(cols[2].prepared.items.every((i) => i.shots === 2)).toBe(true);
    // The prompt view shows the zero-shot prompt once and the k-shot prompt, for the example chosen.
    s.viewIndex = 1;
    expect(s.promptView.prompts.map((p) => p.name)).toEqual(['base and adapters', '2-shot base']);
    expect(s.promptView.prompts[0].prompt).toBe('Q: moon?\nA:');
    expect(s.promptView.prompts[1].prompt.endsWith('\n\nQ: moon?\nA:')).toBe(true);
    expect(s.promptView.reference).toBe(' rock');
    s.limit = 2;
    expect(s.planned.columns[0].prepared.items).toHaveLength(2);
  });

  it('the chat template and system prompt change what every column sees; a model without a template is told', () => {
    const s = new EvalState(null, inputs());
    s.chat = true;
    s.system = 'Be brief.';
    expect(s.promptView.prompts[0].prompt).toBe('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nQ: sun?\nA:<|im_end|>\n<|im_start|>assistant\n');
    const none = new EvalState(null, inputs({ tokenizer: { tokenizer: byteTokenizer(), chatTemplate: null, maxPositions: 256 } }));
    none.chat = true;
    expect(none.blockers).toEqual(['this model has no chat template: turn the chat template off']);
  });

  it('runs the columns one after another with their adapter; progress, totals, the table sorted by the change, predictions.jsonl', async () => {
    const wire = new Wire();
    const s = new EvalState(new EngineClient(wire), inputs());
    s.adapterIds = ['a1'];
    const run = s.run();
    expect(s.running).toBe(true);
    let [req] = wire.evals();
    expect(req).toMatchObject({ adapterId: null, maxNewTokens: 32 });
    expect(req.items).toHaveLength(3);
    wire.answer({ type: 'evalRow', id: req.id, done: 2, total: 3 });
    expect(s.progress).toEqual({ column: 0, columns: 2, name: 'base', done: 2, total: 3 });
    wire.answer({ type: 'done', id: req.id, result: outcome([2, 3, 4]) });
    await tick();
    req = wire.evals()[1];
    expect(req.adapterId).toBe('a1');
    wire.answer({ type: 'done', id: req.id, result: outcome([1.5, 3.5, 1], ' rock') });
    await run;
    expect(s.running).toBe(false);
    expect(s.error).toBeNull();
    expect(s.results.map((c) => [c.name, c.adapter])).toEqual([
      ['base', null],
      ['pirate', 'pirate'],
    ]);
    expect(s.tableRows.map((r) => r.index)).toEqual([0, 1, 2]);
    s.sortColumn = 'pirate';
    // Changes in loss: −0.5, +0.5, −3: largest first, then smallest first.
    expect(s.tableRows).toEqual([
      { index: 1, delta: 0.5 },
      { index: 0, delta: -0.5 },
      { index: 2, delta: -3 },
    ]);
    s.sortDescending = false;
    expect(s.tableRows.map((r) => r.index)).toEqual([2, 0, 1]);
    s.sortMetric = 'chrF';
    expect(s.tableRows.map((r) => r.delta)).toEqual(s.tableRows.map((r) => s.results[1].rows[r.index].chrF! - s.results[0].rows[r.index].chrF!));
    const lines = s.predictionsJsonl().trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(6);
    expect(lines[1]).toMatchObject({ index: 0, file: 'qa.jsonl', line: 4, column: 'pirate', adapter: 'pirate', reference: ' star', prediction: ' rock', loss: 1.5, tokens: 4, token_accuracy: 0.5, exact_match: 0 });
  });

  it('cancel asks the worker to stop and keeps the columns already done; a failure names the column', async () => {
    const wire = new Wire();
    const s = new EvalState(new EngineClient(wire), inputs());
    s.adapterIds = ['a1'];
    const run = s.run();
    wire.answer({ type: 'done', id: wire.evals()[0].id, result: outcome([2, 3, 4]) });
    await tick();
    s.cancel();
    const cancel = wire.sent.find((r) => r.kind === 'cancel') as RequestOf<'cancel'>;
    expect(cancel.target).toBe(wire.evals()[1].id);
    wire.answer({ type: 'error', id: wire.evals()[1].id, message: 'This operation was aborted' });
    await run;
    expect(s.notice).toBe('Cancelled: 1 of 2 columns evaluated.');
    expect(s.results.map((c) => c.name)).toEqual(['base']);
    expect(s.error).toBeNull();

    const again = s.run();
    wire.answer({ type: 'error', id: wire.evals()[2].id, message: 'the adapter does not fit' });
    await again;
    expect(s.error).toBe('Evaluating base failed: the adapter does not fit');
  });

  it('a test file replaces the split; preference pairs and empty files are refused with the reason', async () => {
    const s = new EvalState(null, inputs());
    const enc = new TextEncoder();
    await s.openFile({ name: 'prefs.jsonl', bytes: enc.encode('{"prompt":"a","chosen":"b","rejected":"c"}\n') });
    expect(s.fileError).toMatch(/^Cannot use prefs\.jsonl as the test set: it holds preference pairs/);
    expect(s.source).toBe('held-out');
    await s.openFile({ name: 'test.jsonl', bytes: enc.encode('{"prompt":"Q: fog?\\nA:","completion":" grey"}\n{"prompt": "broken\n') });
    expect(s.fileError).toBeNull();
    expect(s.source).toBe('file');
    expect(s.notice).toMatch(/^1 bad record of test\.jsonl left out/);
    expect(s.planned.columns[0].prepared.items.map((i) => i.reference)).toEqual([' grey']);
    // Shots still come from the dataset's training split (same format).
    s.shotsOn = true;
    s.k = 1;
    expect(s.planned.columns[1].prepared.items[0].prompt).toMatch(/^Q: (sea|cat|dog)\?\nA: (salt|meow|woof)\n\nQ: fog\?\nA:$/);
  });
});

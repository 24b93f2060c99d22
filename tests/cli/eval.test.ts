// `lora-playground eval`, the real command in a subprocess: a small {prompt, completion} JSONL read by
// the page's data layer, scored by the engine. The loss must be the one onnxruntime's logits give for
// the completion tokens and EOS (TRL's completion-only loss), over exactly those tokens; per example,
// so must the token accuracy (onnxruntime's argmax) and the greedy output (transformers.js's generate).

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env, Tensor, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureLora } from './adapter.ts';
import { ROOT, runCli } from './run.ts';

const examples = [
  { prompt: 'Question: What is the sun?\nAnswer:', completion: ' The sun is a star.' },
  { prompt: 'The jury said', completion: ' that the report was good.' },
  { prompt: 'In the morning,', completion: ' the old man went out to the field.' },
];
const lines = [JSON.stringify(examples[0]), JSON.stringify(examples[1]), '{"prompt": "broken', JSON.stringify(examples[2])];

let tmp: string;
let tokenizer: PreTrainedTokenizer;
let onnx: PreTrainedModel;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-playground-eval-'));
  env.allowRemoteModels = false;
  env.localModelPath = join(ROOT, 'models') + '/';
  tokenizer = await AutoTokenizer.from_pretrained('brown-llama-4m');
  onnx = await AutoModelForCausalLM.from_pretrained('brown-llama-4m', { dtype: 'fp32', device: 'cpu' });
});
afterAll(async () => {
  await onnx?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

/** Σ -log p(token) over each completion's tokens and the EOS after it, from onnxruntime's logits; and how many. */
async function completionLoss(): Promise<{ sum: number; count: number }> {
  const per = await perExample();
  return { sum: per.reduce((a, x) => a + x.sum, 0), count: per.reduce((a, x) => a + x.count, 0) };
}

/** Per example: Σ -log p, counted tokens and how many of them are onnxruntime's argmax. */
async function perExample(): Promise<{ sum: number; count: number; correct: number }[]> {
  const eos = tokenizer.eos_token_id as number;
  const out = [];
  for (const ex of examples) {
    let sum = 0;
    let count = 0;
    let correct = 0;
    const prompt = tokenizer.encode(ex.prompt, { add_special_tokens: false });
    const ids = [...prompt, ...tokenizer.encode(ex.completion, { add_special_tokens: false }), eos];
    const input_ids = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
    const attention_mask = new Tensor('int64', BigInt64Array.from(ids.map(() => 1n)), [1, ids.length]);
    const logits = ((await onnx.forward({ input_ids, attention_mask })) as { logits: Tensor }).logits;
    const V = logits.dims[2];
    const data = logits.data as Float32Array;
    // Position t predicts ids[t+1]; the completion starts at ids[prompt.length].
    for (let t = prompt.length - 1; t < ids.length - 1; t++) {
      const row = data.subarray(t * V, (t + 1) * V);
      let max = -Infinity;
      let argmax = 0;
      row.forEach((x, v) => {
        if (x > max) (max = x), (argmax = v);
      });
      let z = 0;
      for (const x of row) z += Math.exp(x - max);
      sum += max + Math.log(z) - row[ids[t + 1]];
      count++;
      if (argmax === ids[t + 1]) correct++;
    }
    out.push({ sum, count, correct });
  }
  return out;
}

/** transformers.js's greedy continuation of each prompt (onnxruntime), special tokens removed. */
async function greedy(maxNewTokens: number): Promise<string[]> {
  const out = [];
  for (const ex of examples) {
    const ids = tokenizer.encode(ex.prompt, { add_special_tokens: true });
    const input_ids = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
    const attention_mask = new Tensor('int64', BigInt64Array.from(ids.map(() => 1n)), [1, ids.length]);
    const seq = (await onnx.generate({ input_ids, attention_mask, max_new_tokens: maxNewTokens, do_sample: false })) as Tensor;
    const all = Array.from(seq.data as BigInt64Array, Number);
    out.push(tokenizer.decode(all.slice(ids.length), { skip_special_tokens: true }));
  }
  return out;
}

describe('lora-playground eval', () => {
  it('scores the completions of a JSONL file as onnxruntime does, leaving out a bad line with --skip-bad', async () => {
    const file = join(tmp, 'small.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    const r = await runCli(['eval', '--model', 'models/brown-llama-4m', '--data', file, '--seq-len', '32', '--batch', '2', '--skip-bad', '--max-new-tokens', '0', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.events().filter((e) => e.event === 'warning');
    expect(warnings.map((w) => w.message).join('\n')).toMatch(/1 bad record left out/);
    const result = r.result();
    const expected = await completionLoss();
    expect(result.tokens).toBe(expected.count);
    expect(result.examples).toBe(3);
    expect(result.skippedRecords).toBe(1);
    expect(result.rows).toBe(3);
    expect(result.batches).toBe(2); // the second topped up with a padding row
    expect(result.format).toBe('prompt-completion');
    expect(Number.isFinite(result.loss)).toBe(true);
    expect(result.loss as number).toBeCloseTo(expected.sum / expected.count, 3);
    expect(result.perplexity as number).toBeCloseTo(Math.exp(result.loss as number), 6);
  });

  it('tabulates base, an adapter and 1-shot base per example: loss, token accuracy and greedy output as onnxruntime gives them; writes predictions.jsonl', async () => {
    const file = join(tmp, 'qa.jsonl');
    writeFileSync(file, examples.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const adapter = join(tmp, 'fixture-lora');
    writeFixtureLora(adapter);
    const out = join(tmp, 'predictions.jsonl');
    const r = await runCli(['eval', '--model', 'models/brown-llama-4m', '--data', file, '--adapter', adapter, '--shots', '1', '--max-new-tokens', '3', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = r.result() as unknown as {
      columns: { name: string; adapter: string | null; shots: number; totals: Record<string, number>; heldOut: { loss: number; tokens: number } | null; tokensPerSecond: number | null }[];
      perExample: { line: number; prompt: string; reference: string; columns: Record<string, { prediction: string; loss: number; tokens: number; token_accuracy: number; chrf: number; shots: number; prompt: string }> }[];
    };
    expect(result.columns.map((c) => c.name)).toEqual(['base', 'fixture-lora', '1-shot base']);
    expect(result.columns.map((c) => c.shots)).toEqual([0, 0, 1]);
    expect(result.perExample.map((e) => e.line)).toEqual([1, 2, 3]);

    // The base column against onnxruntime, example by example.
    const expected = await perExample();
    const predictions = await greedy(3);
    result.perExample.forEach((e, i) => {
      const base = e.columns.base;
      expect(base.tokens).toBe(expected[i].count);
      expect(base.loss).toBeCloseTo(expected[i].sum / expected[i].count, 3);
      expect(base.token_accuracy).toBeCloseTo(expected[i].correct / expected[i].count, 9);
      expect(base.prediction).toBe(predictions[i]);
      expect(e.reference).toBe(examples[i].completion);
    });
    // Totals: token-weighted, equal to the packed held-out loss (another path: the loss kernel), for the adapter too.
    for (const c of result.columns.slice(0, 2)) {
      expect(c.totals.examples).toBe(3);
      expect(c.totals.loss).toBeCloseTo(c.heldOut!.loss, 4);
      expect(c.totals.tokens).toBe(c.heldOut!.tokens);
    }
    expect(Math.abs(result.columns[1].totals.loss - result.columns[0].totals.loss)).toBeGreaterThan(1e-3);
    // The 1-shot column: one other example solved in front of the prompt; the same tokens counted.
    const shot = result.perExample[0].columns['1-shot base'];
    expect(shot.shots).toBe(1);
    const other = examples.slice(1).map((x) => x.prompt + x.completion);
    expect(other.some((o) => shot.prompt === o + '\n\n' + examples[0].prompt)).toBe(true);
    expect(shot.tokens).toBe(result.perExample[0].columns.base.tokens);
    expect(result.columns[2].heldOut).toBeNull();

    // predictions.jsonl: one line per example and column, the same numbers.
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(9);
    expect(lines.map((l) => l.column).slice(0, 3)).toEqual(['base', 'fixture-lora', '1-shot base']);
    expect(lines[1].loss).toBe(result.perExample[0].columns['fixture-lora'].loss);
    expect(lines[0].prediction).toBe(predictions[0]);

    // An existing --out is never replaced, and it is said before the model loads.
    const again = await runCli(['eval', '--model', 'models/brown-llama-4m', '--data', file, '--out', out, '--json']);
    expect(again.code).toBe(1);
    expect(again.error().message).toBe(`--out ${out} already exists: give a new file name (nothing is overwritten)`);
    expect(again.events().some((e) => e.event === 'status' && e.stage === 'gpu')).toBe(false);
    expect(existsSync(out)).toBe(true);
  }, 1_800_000); // three models on SwiftShader, a CPU

  it('stops on a bad line without --skip-bad, naming the file, the line and the reason', async () => {
    const file = join(tmp, 'bad.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    const r = await runCli(['eval', '--model', 'models/brown-llama-4m', '--data', file, '--json']);
    expect(r.code).toBe(1);
    const error = r.error();
    expect(error.message).toBe('bad.jsonl has 1 bad record: skip it or fix the file (--skip-bad leaves them out)');
    expect(error.problems).toHaveLength(1);
    expect(error.problems![0]).toMatch(/^bad\.jsonl, line 3: /);
    // Refused before the model was loaded.
    expect(r.events().some((e) => e.event === 'status' && e.stage === 'gpu')).toBe(false);
  });
});

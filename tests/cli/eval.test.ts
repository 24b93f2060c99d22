// `lora-playground eval`, the real command in a subprocess: a small {prompt, completion} JSONL read by
// the page's data layer, scored by the engine. The loss must be the one onnxruntime's logits give for
// the completion tokens and EOS (TRL's completion-only loss), over exactly those tokens.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env, Tensor, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  const eos = tokenizer.eos_token_id as number;
  let sum = 0;
  let count = 0;
  for (const ex of examples) {
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
      for (const x of row) max = Math.max(max, x);
      let z = 0;
      for (const x of row) z += Math.exp(x - max);
      sum += max + Math.log(z) - row[ids[t + 1]];
      count++;
    }
  }
  return { sum, count };
}

describe('lora-playground eval', () => {
  it('scores the completions of a JSONL file as onnxruntime does, leaving out a bad line with --skip-bad', async () => {
    const file = join(tmp, 'small.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    const r = await runCli(['eval', '--model', 'models/brown-llama-4m', '--data', file, '--seq-len', '32', '--batch', '2', '--skip-bad', '--json']);
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

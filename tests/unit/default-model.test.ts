// The shipped default model, checked where it ships: the files transformers.js loads (tokenizer,
// chat template, ONNX graph with KV cache) agree with the PyTorch recipe that made them. Runs
// transformers.js in Node on onnxruntime-node's CPU provider; the browser/WebGPU path is the e2e test.
import { readFileSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AutoModelForCausalLM, AutoTokenizer, env, Tensor } from '@huggingface/transformers';
import type { PreTrainedModel, PreTrainedTokenizer } from '@huggingface/transformers';
import { parseSafetensors, tensorToFloat32 } from '../../src/lib/model/safetensors';
import { FIXTURES, i32 } from '../gpu/fixtures';
import { compare } from '../helpers/gradcheck';

const MODELS = join(__dirname, '../../models');
const ID = 'brown-llama-4m';

interface GreedyCase { prompt: string; input_ids: number[]; output_ids: number[]; text: string }

let tokenizer: PreTrainedTokenizer;
let model: PreTrainedModel;

beforeAll(async () => {
  env.allowRemoteModels = false;
  env.localModelPath = MODELS + '/';
  tokenizer = await AutoTokenizer.from_pretrained(ID);
  model = await AutoModelForCausalLM.from_pretrained(ID, { dtype: 'fp32', device: 'cpu' });
}, 120_000);

describe('default model files', () => {
  it('is a small Llama in the Hugging Face layout', () => {
    const dir = join(MODELS, ID);
    for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json',
      'special_tokens_map.json', 'model.safetensors', 'onnx/model.onnx', 'README.md']) {
      expect(statSync(join(dir, f)).size, f).toBeGreaterThan(0);
    }
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config.model_type).toBe('llama');
    expect(config.num_key_value_heads).toBeLessThan(config.num_attention_heads); // grouped-query attention
    expect(config.tie_word_embeddings).toBe(true);
    const weights = parseSafetensors(readFileSync(join(dir, 'model.safetensors')));
    const params = weights.tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
    expect(params).toBeLessThanOrEqual(10_000_000);
    const bytes = ['model.safetensors', 'onnx/model.onnx', 'tokenizer.json']
      .reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    expect(bytes).toBeLessThanOrEqual(40_000_000);
    expect(readdirSync(dir)).not.toContain('recipe');
  });

  it('tokenizes exactly as the recipe tokenizer did', () => {
    const cases: { text: string; ids: number[] }[] = JSON.parse(readFileSync(join(FIXTURES, 'tokenizer.json'), 'utf8'));
    expect(cases.length).toBeGreaterThan(2);
    for (const c of cases) {
      expect(tokenizer.encode(c.text), JSON.stringify(c.text)).toEqual(c.ids);
      expect(tokenizer.decode(c.ids)).toBe(c.text);
    }
  });

  it('renders chats with its ChatML template', () => {
    const text = tokenizer.apply_chat_template(
      [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello.' }],
      { tokenize: false },
    );
    expect(text).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n');
  });

  it('ONNX logits match the PyTorch fixture within 1e-4', async () => {
    const fx = parseSafetensors(readFileSync(join(FIXTURES, 'forward.safetensors')));
    const shape = fx.byName.get('input_ids')!.shape;
    const ids = i32(fx, 'input_ids');
    const [B, T] = shape;
    const input_ids = new Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [B, T]);
    const attention_mask = new Tensor('int64', new BigInt64Array(B * T).fill(1n), [B, T]);
    const out = await model({ input_ids, attention_mask });
    const logits = out.logits.data as Float32Array;
    const expected = tensorToFloat32(fx, 'logits');
    const { maxAbs } = compare(logits, expected);
    expect(maxAbs).toBeLessThan(1e-4);

    // The masked mean cross-entropy from those logits equals the fixture's loss.
    const targets = i32(fx, 'targets');
    const V = expected.length / (B * T);
    let sum = 0;
    let count = 0;
    for (let i = 0; i < B * T; i++) {
      if (targets[i] === -100) continue;
      const row = logits.subarray(i * V, (i + 1) * V);
      const max = row.reduce((a, b) => Math.max(a, b), -Infinity);
      const lse = max + Math.log(row.reduce((a, b) => a + Math.exp(b - max), 0));
      sum += lse - row[targets[i]];
      count++;
    }
    expect(count).toBeLessThan(B * T); // the fixture really masks some positions
    expect(Math.abs(sum / count - tensorToFloat32(fx, 'loss')[0])).toBeLessThan(1e-4);
  }, 60_000);

  it('greedy generation with the KV cache reproduces the PyTorch continuations', async () => {
    const cases: GreedyCase[] = JSON.parse(readFileSync(join(FIXTURES, 'greedy.json'), 'utf8'));
    for (const c of cases) {
      const inputs = tokenizer(c.prompt);
      expect(Array.from(inputs.input_ids.data as BigInt64Array, Number)).toEqual(c.input_ids);
      const out = await model.generate({ ...inputs, max_new_tokens: 32, do_sample: false }) as Tensor;
      const all = Array.from(out.data as BigInt64Array, Number);
      expect(all.slice(c.input_ids.length)).toEqual(c.output_ids);
    }
  }, 120_000);
});

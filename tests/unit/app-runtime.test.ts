// The base runtime on the shipped model, in Node (transformers.js on onnxruntime-node, CPU): the same
// code the worker runs in the browser, minus the backend. Greedy output must equal PyTorch's.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_ID, findModel, hubModel } from '../../src/lib/base/catalog.ts';
import { BaseRuntime, type StreamedToken } from '../../src/lib/base/runtime.ts';
import { startHubServer } from '../e2e/hub-server.ts';

interface GreedyCase {
  prompt: string;
  input_ids: number[];
  output_ids: number[];
  text: string;
}

const MODELS = resolve(import.meta.dirname, '../../models');
const greedy: GreedyCase[] = JSON.parse(readFileSync(resolve(import.meta.dirname, '../fixtures/greedy.json'), 'utf8'));
const shipped = findModel(DEFAULT_MODEL_ID)!;
const sampled = { maxNewTokens: 24, temperature: 1, topK: 0, topP: 1, chat: false };

describe('base runtime, shipped model, onnxruntime-node', () => {
  let runtime: BaseRuntime;
  beforeAll(async () => {
    runtime = await BaseRuntime.load({ model: shipped, backend: 'cpu', localModels: MODELS });
  }, 120_000);
  afterAll(() => runtime?.dispose());

  it('reads the end-of-sequence ids and chat template from the model folder', () => {
    const config = JSON.parse(readFileSync(resolve(MODELS, DEFAULT_MODEL_ID, 'generation_config.json'), 'utf8'));
    expect(runtime.info.eosTokenIds).toEqual([config.eos_token_id].flat());
    expect(runtime.info.hasChatTemplate).toBe(true);
    expect(runtime.info.dtype).toBe('fp32');
  });

  for (const [i, c] of greedy.entries()) {
    it(`greedy continuation ${i} equals PyTorch's, streamed token by token`, async () => {
      const streamed: StreamedToken[] = [];
      const result = await runtime.generate(
        c.prompt,
        { maxNewTokens: c.output_ids.length, temperature: 0, topK: 0, topP: 1, seed: 0, chat: false },
        (t) => streamed.push(t),
      );
      expect(result.promptIds).toEqual(c.input_ids);
      expect(result.tokenIds).toEqual(c.output_ids);
      expect(result.text).toBe(c.text);
      expect(streamed.map((t) => t.id)).toEqual(c.output_ids);
      expect(streamed.map((t) => t.text).join('')).toBe(c.text);
      expect(result.tokensPerSecond).toBeGreaterThan(0);
    });
  }

  it('samples the same text for the same seed and a different text for another seed', async () => {
    const prompt = greedy[0].prompt;
    const a = await runtime.generate(prompt, { ...sampled, seed: 1 });
    const b = await runtime.generate(prompt, { ...sampled, seed: 1 });
    const c = await runtime.generate(prompt, { ...sampled, seed: 2 });
    expect(b.tokenIds).toEqual(a.tokenIds);
    expect(c.tokenIds).not.toEqual(a.tokenIds);
  });

  it('stops when the signal is aborted, keeping what it generated', async () => {
    const controller = new AbortController();
    const result = await runtime.generate(greedy[0].prompt, { ...sampled, maxNewTokens: 200, seed: 3 }, (t) => {
      if (t.index === 4) controller.abort();
    }, controller.signal);
    expect(result.stopReason).toBe('stopped');
    expect(result.tokenIds).toHaveLength(5);
  });

  it('renders a chat prompt with the tokenizer’s template when asked', () => {
    const chat = runtime.renderPrompt('Hi', true);
    expect(chat.rendered).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    expect(chat.chat).toBe(true);
    expect(runtime.decode(chat.ids)).toBe('user\nHi\nassistant\n');
    expect(runtime.renderPrompt('Hi', false).rendered).toBe('Hi');
  });

  it('refuses an empty prompt with a reason', async () => {
    await expect(runtime.generate('', { ...sampled, seed: 0 })).rejects.toThrow(/prompt is empty/);
  });
});

describe('hub loader', () => {
  it('loads a model from a server in the Hub’s URL layout and generates the same greedy text', async () => {
    const hub = await startHubServer('test-org/brown-llama-4m', resolve(MODELS, DEFAULT_MODEL_ID));
    const cacheDir = mkdtempSync(resolve(tmpdir(), 'hub-cache-'));
    try {
      const runtime = await BaseRuntime.load({
        model: hubModel('test-org/brown-llama-4m'),
        backend: 'cpu',
        localModels: '/nonexistent',
        hubHost: hub.url,
        cacheDir,
      });
      const c = greedy[1];
      const result = await runtime.generate(c.prompt, {
        maxNewTokens: c.output_ids.length,
        temperature: 0,
        topK: 0,
        topP: 1,
        seed: 0,
        chat: false,
      });
      await runtime.dispose();
      expect(result.tokenIds).toEqual(c.output_ids);
      const got = hub.requests.filter((r) => r.startsWith('GET '));
      for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) {
        expect(got).toContain(`GET /test-org/brown-llama-4m/resolve/main/${file}`);
      }
    } finally {
      await hub.close();
      rmSync(cacheDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('reads the ONNX export from the entry\'s onnx repo when the weights repo has none (catalog.ts ModelSpec.onnx)', async () => {
    const hub = await startHubServer('test-org/brown-llama-4m-ONNX', resolve(MODELS, DEFAULT_MODEL_ID));
    const cacheDir = mkdtempSync(resolve(tmpdir(), 'hub-cache-'));
    try {
      const runtime = await BaseRuntime.load({
        model: { ...hubModel('test-org/brown-llama-4m'), onnx: 'test-org/brown-llama-4m-ONNX' },
        backend: 'cpu',
        localModels: '/nonexistent',
        hubHost: hub.url,
        cacheDir,
      });
      // the loaded model keeps the weights repo's id: the engine's weights and the page's choice use it
      expect(runtime.info.id).toBe('test-org/brown-llama-4m');
      await runtime.dispose();
      const got = hub.requests.filter((r) => r.startsWith('GET '));
      expect(got).toContain('GET /test-org/brown-llama-4m-ONNX/resolve/main/onnx/model.onnx');
      expect(got.filter((r) => r.includes('/test-org/brown-llama-4m/'))).toEqual([]);
    } finally {
      await hub.close();
      rmSync(cacheDir, { recursive: true, force: true });
    }
  }, 120_000);
});

// Generation on the KV cache against PyTorch's greedy continuation (tests/fixtures/greedy.json, which
// onnxruntime-web reproduces): the base model, and the base with freshly initialised (zero-effect)
// LoRA and bottleneck adapters attached, must produce the same tokens.
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import type { MethodConfig } from '../../src/lib/adapters/config.ts';
import { generate } from '../../src/lib/generate/generate.ts';
import { Model } from '../../src/lib/model/model.ts';
import { defaultMethod } from '../../src/lib/train/config.ts';
import { collect, DEFAULT_MODEL, fixtureJson, modelFiles } from './fixtures.ts';

const gpu = useGpu();

interface GreedyCase {
  prompt: string;
  input_ids: number[];
  output_ids: number[];
}

const cases = fixtureJson<GreedyCase[]>('greedy.json');
const methods: [string, MethodConfig | null][] = [
  ['no adapter', null],
  ['zero-initialised LoRA', { ...defaultMethod('LORA'), r: 4, lora_alpha: 8 }],
  ['zero-initialised bottleneck', defaultMethod('BOTTLENECK')],
];

describe('greedy generation matches PyTorch', () => {
  it.each(methods)('%s', async (_, method) => {
    const model = Model.load(gpu(), modelFiles(DEFAULT_MODEL));
    try {
      if (method) model.attach(method, 1);
      for (const c of cases) {
        const { tokens, stop } = await collect(generate(model, c.input_ids, { maxNewTokens: 32 }));
        expect(tokens, c.prompt).toEqual(c.output_ids);
        expect(stop).toBe(c.output_ids.length < 32 ? 'eos' : 'length');
      }
    } finally {
      model.destroy();
    }
  });
});

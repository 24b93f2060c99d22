// The words and choices of the training, compare and adapter screens: adapter names, test hooks in
// the URL, comparison sides, and the adapter list's description of PEFT files.

import { describe, expect, it } from 'vitest';
import { describeMethod, type LoraConfig } from '../../src/lib/adapters/config.ts';
import { exportAdapter, expectedAdapterTensors } from '../../src/lib/peft/adapter.ts';
import { parseModelConfig } from '../../src/lib/model/config.ts';
import { describeAdapterFiles } from '../../src/lib/store/adapters.ts';
import { defaultMethod } from '../../src/lib/train/config.ts';
import type { TrainingPlan } from '../../src/lib/train/plan.ts';
import { importedName } from '../../src/ui/adapters/names.ts';
import { adapterChoice, ENGINE_BASE, evaluationWeights, ONNX_BASE, toSide } from '../../src/ui/compare/sides.ts';
import { debugStep, runName } from '../../src/ui/train/run.ts';

const cfg = parseModelConfig({
  model_type: 'llama',
  vocab_size: 64,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 32,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: true,
});
const base = { name: 'tiny', config: cfg };
const lora = (r: number, lora_alpha: number, target_modules: string[] | string, use_rslora = false): LoraConfig => ({
  ...defaultMethod('LORA'),
  r,
  lora_alpha,
  target_modules,
  use_rslora,
});

describe('runName', () => {
  const plan = (method: TrainingPlan['method']) => ({ method, data: { name: 'pirate.jsonl' } }) as unknown as TrainingPlan;
  it('names the method, its size and the dataset', () => {
    expect(runName(plan(lora(8, 16, ['q_proj'])))).toBe('LoRA r8 · pirate.jsonl');
    expect(runName(plan({ peft_type: 'BOTTLENECK', bottleneck_size: 16, placement: ['mlp'], non_linearity: 'relu' }))).toBe('Bottleneck 16 · pirate.jsonl');
    expect(runName(plan({ peft_type: 'PREFIX_TUNING', num_virtual_tokens: 4 }))).toBe('Prefix 4 · pirate.jsonl');
  });
});

describe('debugStep', () => {
  it('reads a positive whole step from the URL and ignores anything else', () => {
    expect(debugStep('?debug-lose-device=5', 'debug-lose-device')).toBe(5);
    expect(debugStep('?debug-nan-after=3&x=1', 'debug-nan-after')).toBe(3);
    expect(debugStep('?debug-nan-after=3', 'debug-lose-device')).toBeUndefined();
    for (const bad of ['0', '-2', '1.5', 'x', '']) expect(debugStep(`?debug-lose-device=${bad}`, 'debug-lose-device')).toBeUndefined();
  });
});

describe('importedName', () => {
  it('takes the .zip’s name, else the folder’s, else the method', () => {
    expect(importedName([{ name: 'pirate-lora.zip' }], 'LORA')).toBe('pirate-lora');
    expect(importedName([{ name: 'my-adapter/adapter_config.json' }, { name: 'my-adapter/adapter_model.safetensors' }], 'LORA')).toBe('my-adapter');
    expect(importedName([{ name: 'adapter_config.json' }, { name: 'adapter_model.safetensors' }], 'PREFIX_TUNING')).toBe('Imported Prefix tuning');
  });
});

describe('comparison sides', () => {
  it('map the pickers’ values to what the worker runs', () => {
    expect(toSide(ONNX_BASE)).toEqual({ runtime: 'onnx' });
    expect(toSide(ENGINE_BASE)).toEqual({ runtime: 'engine', adapterId: null });
    expect(toSide(adapterChoice('abc-123'))).toEqual({ runtime: 'engine', adapterId: 'abc-123' });
  });
  it('measure held-out loss of either base with the engine and no adapter', () => {
    expect(evaluationWeights(ONNX_BASE)).toBeNull();
    expect(evaluationWeights(ENGINE_BASE)).toBeNull();
    expect(evaluationWeights(adapterChoice('x'))).toBe('x');
  });
});

describe('the adapter list’s description of PEFT files', () => {
  it('says the method and its settings', () => {
    expect(describeMethod(lora(8, 16, ['q_proj', 'v_proj']))).toBe('LoRA r 8, α 16 · q_proj, v_proj');
    expect(describeMethod(lora(4, 4, 'all-linear', true))).toBe('LoRA r 4, α 4, rsLoRA · all-linear');
    expect(describeMethod({ ...lora(4, 4, ['q_proj']), layers_to_transform: [0] })).toBe('LoRA r 4, α 4 · q_proj · layers 0');
    expect(describeMethod({ peft_type: 'PREFIX_TUNING', num_virtual_tokens: 6 })).toBe('Prefix tuning · 6 virtual tokens');
    expect(describeMethod({ peft_type: 'BOTTLENECK', bottleneck_size: 8, non_linearity: 'relu', placement: ['self_attn', 'mlp'] })).toBe(
      'Bottleneck adapter · size 8, relu · after self_attn and mlp',
    );
  });
  it('counts the parameters and bytes in the weights file and reads the base model', () => {
    const pc = lora(2, 4, ['q_proj']);
    const tensors = new Map(
      [...expectedAdapterTensors({ method: pc, prefixShape: null }, base)].map(([k, shape]) => [k, { shape, data: new Float32Array(shape[0] * shape[1]).fill(0.5) }]),
    );
    const ex = exportAdapter(pc, tensors, base);
    const d = describeAdapterFiles({ configJson: ex.configJson, weights: ex.weights });
    // Two layers, each q_proj: A (2,16) and B (16,2).
    expect(d.parameters).toBe(2 * (2 * 16 + 16 * 2));
    expect(d.bytes).toBe(ex.weights.byteLength);
    expect(d.baseModel).toBe('tiny');
    expect(d.peftType).toBe('LORA');
  });
  it('refuses files that are not an adapter', () => {
    expect(() => describeAdapterFiles({ configJson: '{"peft_type": "IA3"}', weights: new Uint8Array(16) })).toThrow(/IA3/);
  });
});

// The training plan (src/lib/train/): defaults that work on the shipped model, trainable
// parameter counts checked against the PyTorch fixtures, the GPU memory estimate, the named problems,
// and a whole plan built from each built-in sample with the model's real tokenizer.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  chatTemplateFromTokenizer,
  type ChatTemplateFn,
  fromTransformersTokenizer,
  IGNORE_INDEX,
  parseDatasetText,
  prepareTraining,
  SAMPLE_DATASETS,
  type TextTokenizer,
} from '../../src/lib/data';
import { parseModelConfig, type ModelConfig } from '../../src/lib/model/config';
import { parseSafetensors } from '../../src/lib/model/safetensors';
import { quickPrompts } from '../../src/lib/data';
import type { LoraConfig, MethodConfig } from '../../src/lib/adapters/config';
import { projectionNames } from '../../src/lib/adapters/lora';
import { architectureFor } from '../../src/lib/model/architecture';
import { adapterConfigJson, parseAdapterConfig } from '../../src/lib/peft/config';
import { configProblems, methodProblems } from '../../src/lib/train/checks';
import { DEFAULTS, defaultMethod, stepsPerEpoch, totalSteps, type TrainConfig } from '../../src/lib/train/config';
import { baseParamCount, estimateTrainingMemory, trainableParamCount } from '../../src/lib/train/memory';
import { buildTrainingPlan, PlanError } from '../../src/lib/train/plan';
import { DEFAULT_MODEL, ROOT } from '../gpu/fixtures';

const DEFAULT_CONFIG: TrainConfig = DEFAULTS.training;
const lora = (r: number, target_modules: string[] | string, extra: Partial<LoraConfig> = {}): LoraConfig => ({
  ...defaultMethod('LORA'),
  r,
  target_modules,
  ...extra,
});

const read = (p: string) => readFileSync(join(ROOT, p));
const cfg: ModelConfig = parseModelConfig(readFileSync(join(DEFAULT_MODEL, 'config.json'), 'utf8'));
const gpt2: ModelConfig = parseModelConfig(read('tests/fixtures/tiny-gpt2/config.json').toString());

/** Elements of the adapter tensors in a fixture file (gradients left out). */
function fixtureParams(file: string): number {
  const st = parseSafetensors(read(file));
  return st.tensors
    .filter((t) => !t.name.endsWith('.grad') && (t.name.startsWith('base_model.') || t.name === 'prompt_embeddings'))
    .reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
}

describe('trainable parameters', () => {
  it('LoRA r=4 on the seven projections has as many parameters as the PyTorch fixture', () => {
    const peft = JSON.parse(read('tests/fixtures/lora.json').toString());
    const m = lora(peft.r, peft.target_modules, { lora_alpha: peft.lora_alpha });
    expect(trainableParamCount(m, cfg)).toBe(fixtureParams('tests/fixtures/lora.safetensors'));
  });

  it('a bottleneck adapter after attention and MLP has as many parameters as the fixture', () => {
    const j = JSON.parse(read('tests/fixtures/bottleneck.json').toString());
    const m: MethodConfig = { peft_type: 'BOTTLENECK', bottleneck_size: j.bottleneck_size, placement: j.placement, non_linearity: j.non_linearity };
    expect(trainableParamCount(m, cfg)).toBe(fixtureParams('tests/fixtures/bottleneck.safetensors'));
  });

  it('prefix tuning has P·L·2·NKV·HS parameters, as the fixture', () => {
    const j = JSON.parse(read('tests/fixtures/prefix.json').toString());
    const m: MethodConfig = { peft_type: 'PREFIX_TUNING', num_virtual_tokens: j.num_virtual_tokens };
    expect(trainableParamCount(m, cfg)).toBe(fixtureParams('tests/fixtures/prefix.safetensors'));
  });

  it('LoRA adds r·(in+out) per targeted projection', () => {
    // brown-llama-4m: C=256, q/o 256↔256, k/v 256→128, gate/up 256→688, down 688→256, 4 layers.
    const r = 8;
    const perLayer = r * (512 + 384 + 384 + 512 + 944 + 944 + 944);
    expect(trainableParamCount(lora(r, 'all-linear'), cfg)).toBe(4 * perLayer);
    expect(trainableParamCount(lora(r, projectionNames(architectureFor(cfg))), cfg)).toBe(4 * perLayer);
    expect(trainableParamCount(lora(r, ['q_proj', 'v_proj']), cfg)).toBe(4 * r * (512 + 384));
    expect(trainableParamCount(lora(r, ['q_proj', 'v_proj'], { layers_to_transform: [1, 3] }), cfg)).toBe(2 * r * (512 + 384));
  });

  it('the base model has the parameters model.safetensors stores (float32)', () => {
    const st = parseSafetensors(readFileSync(join(DEFAULT_MODEL, 'model.safetensors')));
    const stored = st.tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
    expect(baseParamCount(cfg)).toBe(stored);
  });
});

describe('defaults', () => {
  it('LoRA targets every projection the model has', () => {
    expect(projectionNames(architectureFor(cfg))).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);
    expect(projectionNames(architectureFor(gpt2))).toEqual(['c_attn', 'c_proj', 'c_fc']);
    expect(trainableParamCount(defaultMethod('LORA'), gpt2)).toBe(trainableParamCount(lora(8, ['c_attn', 'c_proj', 'c_fc']), gpt2));
  });

  it('are valid for every method on the default model and on GPT-2', () => {
    for (const type of ['LORA', 'BOTTLENECK', 'PREFIX_TUNING', 'FULL'] as const) {
      expect(methodProblems(defaultMethod(type), cfg)).toEqual([]);
      expect(methodProblems(defaultMethod(type), gpt2)).toEqual([]);
    }
    expect(configProblems(DEFAULT_CONFIG, cfg)).toEqual([]);
  });

  it('write adapter configs that read back to the same method', () => {
    for (const type of ['LORA', 'BOTTLENECK', 'PREFIX_TUNING'] as const) {
      const m = defaultMethod(type);
      const file = parseAdapterConfig(adapterConfigJson(m, { name: 'brown-llama-4m', config: cfg }));
      expect(file.method).toEqual(m);
      expect(file.baseModel).toBe('brown-llama-4m');
    }
    expect(parseAdapterConfig(adapterConfigJson(defaultMethod('LORA'), { name: 'gpt2', config: gpt2 })).fanInFanOut).toBe(true);
  });
});

describe('problems are named', () => {
  it('for methods', () => {
    const l = defaultMethod('LORA');
    expect(methodProblems({ ...l, r: 0 }, cfg).join()).toMatch(/rank/);
    expect(methodProblems({ ...l, target_modules: [] }, cfg).join()).toMatch(/at least one target module/);
    expect(methodProblems({ ...l, target_modules: ['c_attn'] }, cfg).join()).toMatch(/no module "c_attn"/);
    expect(methodProblems({ ...l, target_modules: 'model\\.nowhere\\..*' }, cfg).join()).toMatch(/matches no module/);
    expect(methodProblems({ ...l, layers_to_transform: [4] }, cfg).join()).toMatch(/layer numbers from 0 to 3/);
    expect(methodProblems({ ...l, lora_dropout: 1 }, cfg).join()).toMatch(/dropout/);
    expect(methodProblems({ peft_type: 'BOTTLENECK', bottleneck_size: 16, placement: [], non_linearity: 'relu' }, cfg).join()).toMatch(/after attention/);
    expect(methodProblems({ peft_type: 'PREFIX_TUNING', num_virtual_tokens: 2.5 }, cfg).join()).toMatch(/virtual tokens/);
  });

  it('for the training config, with the model limit for the sequence length', () => {
    expect(configProblems({ ...DEFAULT_CONFIG, max_length: 1024 }, cfg).join()).toMatch(/from 8 to 512/);
    expect(configProblems({ ...DEFAULT_CONFIG, learning_rate: 0 }, cfg).join()).toMatch(/learning rate/);
    expect(configProblems({ ...DEFAULT_CONFIG, per_device_train_batch_size: 0 }, cfg).join()).toMatch(/batch size/);
    expect(configProblems({ ...DEFAULT_CONFIG, gradient_accumulation_steps: 0 }, cfg).join()).toMatch(/gradient accumulation/);
    expect(configProblems({ ...DEFAULT_CONFIG, max_steps: -1, num_train_epochs: 0 }, cfg).join()).toMatch(/epochs/);
    expect(configProblems({ ...DEFAULT_CONFIG, max_steps: 0 }, cfg).join()).toMatch(/steps/);
    expect(configProblems({ ...DEFAULT_CONFIG, warmup_steps: -1 }, cfg).join()).toMatch(/warm-up/);
  });
});

describe('training length', () => {
  const per = (B: number, G = 1) => ({ per_device_train_batch_size: B, gradient_accumulation_steps: G });
  it('counts steps per epoch with the last batch topped up', () => {
    expect(stepsPerEpoch(29, per(8))).toBe(4);
    expect(stepsPerEpoch(32, per(8))).toBe(4);
    expect(stepsPerEpoch(32, per(4, 2))).toBe(4);
    expect(stepsPerEpoch(0, per(8))).toBe(0);
  });
  it('resolves epochs into steps when max_steps is -1, and keeps max_steps otherwise', () => {
    expect(totalSteps({ ...DEFAULT_CONFIG, max_steps: -1, num_train_epochs: 3, ...per(8) }, 29)).toBe(12);
    expect(totalSteps({ ...DEFAULT_CONFIG, max_steps: 77 }, 29)).toBe(77);
  });
});

describe('GPU memory estimate', () => {
  const prefix: MethodConfig = { peft_type: 'PREFIX_TUNING', num_virtual_tokens: 8 };

  it('is base weights + 4 copies of the trainable parameters + activations, all float32', () => {
    const m = defaultMethod('LORA');
    const e = estimateTrainingMemory(cfg, m, 8, 128);
    expect(e.weights).toBe(4 * baseParamCount(cfg));
    expect(e.trainable).toBe(4 * 4 * trainableParamCount(m, cfg));
    expect(e.total).toBe(e.weights + e.trainable + e.activations);
  });

  it('grows with B·T, with the LoRA rank and with the bottleneck width (per-tensor sizes: tests/unit/model-activations, tests/gpu/activations)', () => {
    const a = (m: MethodConfig, B: number, T: number) => estimateTrainingMemory(cfg, m, B, T).activations;
    expect(a(prefix, 2, 64)).toBeGreaterThan(a(prefix, 1, 64));
    expect(a(lora(16, ['q_proj', 'v_proj']), 1, 64)).toBeGreaterThan(a(lora(8, ['q_proj', 'v_proj']), 1, 64));
    const bn = (size: number): MethodConfig => ({ peft_type: 'BOTTLENECK', bottleneck_size: size, placement: ['mlp'], non_linearity: 'relu' });
    expect(a(bn(32), 1, 64)).toBeGreaterThan(a(bn(16), 1, 64));
  });
});

describe('plans from the built-in samples with the real tokenizer', () => {
  let tok: TextTokenizer;
  let chat: ChatTemplateFn;
  beforeAll(async () => {
    env.allowRemoteModels = false;
    env.localModelPath = join(ROOT, 'models') + '/';
    const hf = await AutoTokenizer.from_pretrained('brown-llama-4m');
    tok = fromTransformersTokenizer(hf);
    chat = chatTemplateFromTokenizer(hf);
  }, 60_000);

  async function planFor(id: string, config = DEFAULT_CONFIG, method?: MethodConfig) {
    const sample = SAMPLE_DATASETS.find((s) => s.id === id)!;
    const parsed = await parseDatasetText(read(`static/samples/${sample.file}`).toString(), sample.file);
    const prepared = await prepareTraining({ train: parsed, tokenizer: tok, chatTemplate: chat, seqLen: config.max_length });
    const input = {
      model: { id: 'brown-llama-4m', config: cfg },
      name: sample.title,
      prepared,
      sourceExamples: parsed.examples,
      chatTemplate: chat,
      padId: tok.padId,
      skippedRecords: 0,
      method: method ?? defaultMethod('LORA'),
      config,
    };
    return { parsed, prepared, input, plan: () => buildTrainingPlan(input) };
  }

  it('Pirate Q&A: one row per example, ~10% held out, quick prompts are the held-out questions', async () => {
    const { parsed, plan } = await planFor('pirate-qa');
    const p = plan();
    expect(p.data.format).toBe('prompt-completion');
    expect(p.data.trainExamples + p.data.validationExamples).toBe(parsed.examples.length);
    expect(p.data.validationExamples).toBe(Math.round(parsed.examples.length / 10));
    expect(p.data.train.rows).toBe(p.data.trainExamples);
    expect(p.data.validation.rows).toBe(p.data.validationExamples);
    expect(p.data.train.T).toBe(DEFAULT_CONFIG.max_length);
    expect(p.data.train.inputIds.length).toBe(p.data.train.rows * DEFAULT_CONFIG.max_length);
    expect(p.data.quickPrompts).toHaveLength(p.data.validationExamples);
    const byPrompt = new Map(parsed.examples.map((e) => (e.format === 'prompt-completion' ? [e.prompt, e.completion] : ['', ''])));
    p.data.quickPrompts.forEach((q, i) => expect(byPrompt.get(q)).toBe(p.data.quickReferences[i]));
    expect(p.steps).toBe(DEFAULT_CONFIG.max_steps);
    expect(p.estimate.trainableParams).toBe(trainableParamCount(p.method, cfg));
    expect(p.model.id).toBe('brown-llama-4m');
  });

  it('a run over the memory budget is refused with the numbers and the nearest settings that fit', async () => {
    const { input } = await planFor('pirate-qa');
    const need = estimateTrainingMemory(cfg, input.method, DEFAULT_CONFIG.per_device_train_batch_size, DEFAULT_CONFIG.max_length).total;
    const half = estimateTrainingMemory(cfg, input.method, DEFAULT_CONFIG.per_device_train_batch_size, DEFAULT_CONFIG.max_length / 2).total;
    expect(() => buildTrainingPlan({ ...input, memoryBudget: need })).not.toThrow();
    const budget = (need + half) / 2;
    let err: unknown = null;
    try {
      buildTrainingPlan({ ...input, memoryBudget: budget });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlanError);
    expect(String((err as Error).message)).toMatch(
      new RegExp(`this run needs .* more than the .* MiB of GPU memory it may use: pick a smaller batch or sequence length\\. max_length ${DEFAULT_CONFIG.max_length / 2} would fit`),
    );
  });

  it('keeps the examples each split was packed from: every good example once, train then validation', async () => {
    const { parsed, plan } = await planFor('pirate-qa');
    const p = plan();
    expect(p.data.examples.train).toHaveLength(p.data.trainExamples);
    expect(p.data.examples.validation).toHaveLength(p.data.validationExamples);
    const all = [...p.data.examples.train, ...p.data.examples.validation];
    expect(new Set(all).size).toBe(parsed.examples.length);
    for (const e of all) expect(parsed.examples).toContain(e);
    expect(p.model.config).toEqual(cfg);
  });

  it('leaves out of the examples those packing left out (nothing the loss counts survives truncation)', async () => {
    const sample = SAMPLE_DATASETS.find((s) => s.id === 'pirate-qa')!;
    const parsed = await parseDatasetText(read(`static/samples/${sample.file}`).toString(), sample.file);
    // A long prompt: its completion starts beyond the row's 129 tokens, so truncation cuts all of it.
    const first = parsed.examples[0];
    if (first.format !== 'prompt-completion') throw new Error('pirate-qa is prompt-completion data');
    const long = { ...first, prompt: 'Tell me, matey, about '.repeat(40) + first.prompt };
    const examples = [long, ...parsed.examples.slice(1)];
    const config = DEFAULT_CONFIG;
    const prepared = await prepareTraining({ train: { ...parsed, examples }, tokenizer: tok, chatTemplate: chat, seqLen: config.max_length });
    const inTrain = prepared.train.examples.some((e) => e.where === long.where);
    const p = buildTrainingPlan({
      model: { id: 'brown-llama-4m', config: cfg },
      name: sample.title,
      prepared,
      sourceExamples: examples,
      chatTemplate: chat,
      padId: tok.padId,
      skippedRecords: 0,
      method: defaultMethod('LORA'),
      config,
    });
    const used = [...p.data.examples.train, ...p.data.examples.validation];
    expect(used).not.toContain(long);
    expect(used).toHaveLength(examples.length - 1);
    expect(inTrain ? prepared.train.packed.leftOut : prepared.validation!.packed.leftOut).toEqual([long.where]);
  });

  it('Pip chat: quick prompts end with the chat template’s assistant opening', async () => {
    const p = (await planFor('pip-chat')).plan();
    expect(p.data.format).toBe('messages');
    expect(p.data.quickPrompts.length).toBeGreaterThan(0);
    for (const q of p.data.quickPrompts) expect(q.endsWith('<|im_start|>assistant\n')).toBe(true);
    // Targets count only assistant tokens: fewer counted positions than tokens.
    const counted = p.data.train.targets.filter((t) => t !== IGNORE_INDEX).length;
    expect(counted).toBe(p.data.train.countedTokens);
    expect(counted).toBeLessThan(p.data.train.inputIds.filter((id) => id !== p.data.padId).length);
  });

  it('Small fables: plain text packed end to end, epochs resolved into steps', async () => {
    const config = { ...DEFAULT_CONFIG, max_steps: -1, num_train_epochs: 5, per_device_train_batch_size: 4 };
    const { plan } = await planFor('small-fables', config);
    const p = plan();
    expect(p.data.packMode).toBe('concat');
    expect(p.steps).toBe(5 * Math.ceil(p.data.train.rows / 4));
    for (const q of p.data.quickPrompts) expect(q.split(' ').length).toBeLessThanOrEqual(8);
  });

  it('refuses, naming every problem, a plan whose rows do not match the sequence length or whose method is invalid', async () => {
    const { input } = await planFor('pirate-qa');
    let err: unknown;
    try {
      buildTrainingPlan({ ...input, config: { ...DEFAULT_CONFIG, max_length: 64 }, method: { peft_type: 'PREFIX_TUNING', num_virtual_tokens: 0 } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlanError);
    expect((err as PlanError).problems).toHaveLength(2);
    expect((err as PlanError).problems.join('\n')).toMatch(/rows of 128 positions, not the 64/);
  });
});

describe('quick prompts', () => {
  it('skip preference data, empty prompts and duplicates, and stop at the maximum', () => {
    const where = { file: 'x.jsonl', unit: 'line' as const, index: 1, line: 1 };
    const pc = (prompt: string) => ({ where, format: 'prompt-completion' as const, prompt, completion: ' c' });
    const q = quickPrompts(
      [pc('a'), pc('a'), pc(''), { where, format: 'preference', prompt: 'p', chosen: 'c', rejected: 'r' }, pc('b'), pc('c')],
      {},
      2,
    );
    expect(q.prompts).toEqual(['a', 'b']);
  });
});

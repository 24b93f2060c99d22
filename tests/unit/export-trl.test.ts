// A run exported for TRL and Accelerate (src/lib/export/): sft.yaml's keys are flags `trl sft`
// documents and its values are the run's settings one for one; the data files are exactly the run's
// examples and read back through the page's reader as the same examples; each method reaches TRL, or
// says why it cannot and what stands in; and PyYAML (the parser TRL and Accelerate use) reads every
// file back as written (tests/python/check_trl_export.py).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTargetModule, type MethodConfig } from '../../src/lib/adapters/config';
import { allLinears } from '../../src/lib/adapters/lora';
import {
  chatTemplateFromTokenizer,
  type ChatTemplateFn,
  type Example,
  fromTransformersTokenizer,
  parseDatasetText,
  PREFERENCE_NOTE,
  prepareTraining,
  renderExample,
  type TextTokenizer,
} from '../../src/lib/data';
import { accelerateSetups } from '../../src/lib/export/accelerate';
import { exportProblems, exportRun, type RunExport } from '../../src/lib/export/run';
import { bottleneckAsLora, methodFlags, scheduleFlags, sftConfig, trlJsonl, trlTargetModules } from '../../src/lib/export/trl';
import { toYaml, type YamlMap, yamlNumber, yamlString } from '../../src/lib/export/yaml';
import { architectureFor } from '../../src/lib/model/architecture';
import { parseModelConfig } from '../../src/lib/model/config';
import { readZip } from '../../src/lib/peft/zip';
import { defaultMethod, defaultTrainConfig, type TrainConfig } from '../../src/lib/train/config';
import { trainableParamCount } from '../../src/lib/train/memory';
import { buildTrainingPlan, type TrainingPlan } from '../../src/lib/train/plan';
import { defaultBaseModel, exportFileName, exportForTrl } from '../../src/ui/train/export-run';
import { DEFAULT_MODEL, ROOT } from '../gpu/fixtures';

const cfg = parseModelConfig(readFileSync(join(DEFAULT_MODEL, 'config.json'), 'utf8'));
const FLAGS = JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/trl-flags.json'), 'utf8'));
const SFT_FLAGS = new Set<string>(Object.values(FLAGS.sft as Record<string, string[]>).flat());
const CHECK = join(ROOT, 'tests/python/check_trl_export.py');
const BASE = 'HuggingFaceTB/SmolLM2-360M-Instruct';
const sample = (file: string) => readFileSync(join(ROOT, 'static/samples', file), 'utf8');
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const withoutWhere = (examples: readonly Example[]) => examples.map(({ where: _where, ...rest }) => rest);

const ALPACA = [
  { instruction: 'Name a colour.', input: '', output: 'Blue.' },
  { instruction: 'Add the numbers.', input: '2 and 3', output: '5' },
  { instruction: 'Say hello in French.', input: '', output: 'Bonjour!' },
  { instruction: 'Reverse the word.', input: 'stop', output: 'pots' },
  { instruction: 'Quote "this": a colon, a # and a backslash \\ too.', input: 'yes', output: 'Done: "ok" # \\' },
]
  .map((r) => JSON.stringify(r))
  .join('\n');

let tok: TextTokenizer;
let chat: ChatTemplateFn;
let tmp: string;
beforeAll(async () => {
  env.allowRemoteModels = false;
  env.localModelPath = join(ROOT, 'models') + '/';
  const hf = await AutoTokenizer.from_pretrained('brown-llama-4m');
  tok = fromTransformersTokenizer(hf);
  chat = chatTemplateFromTokenizer(hf);
  tmp = mkdtempSync(join(tmpdir(), 'lora-playground-trl-'));
}, 60_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The plan the page would build from this file, method and training config. */
async function planOf(body: string, file: string, method: MethodConfig = defaultMethod('LORA'), config: TrainConfig = defaultTrainConfig(method.peft_type)): Promise<TrainingPlan> {
  const parsed = await parseDatasetText(body, file);
  const prepared = await prepareTraining({ train: parsed, tokenizer: tok, chatTemplate: chat, seqLen: config.max_length });
  return buildTrainingPlan({
    model: { id: 'brown-llama-4m', config: cfg },
    name: file,
    prepared,
    sourceExamples: parsed.examples,
    chatTemplate: chat,
    padId: tok.padId,
    skippedRecords: 0,
    method,
    config,
  });
}

const fileOf = (ex: RunExport, name: string) => {
  const f = ex.files.find((x) => x.name === name);
  if (!f) throw new Error(`${name} is not in the export (${ex.files.map((x) => x.name).join(', ')})`);
  return text(f.data);
};

/** Runs the Python check; returns its JSON result (it exits 1 when it finds problems). */
function python(args: string[]): { problems: string[]; [k: string]: unknown } {
  let out: string;
  try {
    out = execFileSync('python3', [CHECK, ...args], { encoding: 'utf8' });
  } catch (e) {
    out = String((e as { stdout?: string }).stdout ?? '');
    if (!out.trim()) throw e;
  }
  return JSON.parse(out.trim().split('\n').pop()!);
}

const LORA: MethodConfig = { peft_type: 'LORA', r: 4, lora_alpha: 12, lora_dropout: 0.05, target_modules: ['q_proj', 'v_proj'], use_rslora: true, layers_to_transform: null };
const CONFIG: TrainConfig = {
  learning_rate: 3e-4,
  lr_scheduler_type: 'cosine',
  min_lr_rate: 0.05,
  warmup_steps: 5,
  num_train_epochs: 3,
  max_steps: 77,
  per_device_train_batch_size: 4,
  gradient_accumulation_steps: 3,
  max_length: 96,
  weight_decay: 0.01,
  adam_beta1: 0.85,
  adam_beta2: 0.98,
  adam_epsilon: 1e-7,
  max_grad_norm: 0.5,
  eval_steps: 11,
  early_stopping_patience: 0,
  seed: 42,
};

describe('sft.yaml', () => {
  it("every key is a flag `trl sft` documents, and every setting of the run is there, one for one", async () => {
    const plan = await planOf(sample('pirate-qa.jsonl'), 'pirate-qa.jsonl', LORA, CONFIG);
    const v = sftConfig(plan, BASE).values;
    for (const key of Object.keys(v)) expect(SFT_FLAGS, `${key} is not a documented flag`).toContain(key);

    // Each field of the training config, and where it went: a new field fails to compile here.
    const c = plan.config;
    const expected: Record<keyof TrainConfig, YamlMap> = {
      learning_rate: { learning_rate: 3e-4 },
      lr_scheduler_type: { lr_scheduler_type: 'cosine_with_min_lr' },
      min_lr_rate: { lr_scheduler_kwargs: { min_lr_rate: 0.05 } },
      warmup_steps: { warmup_steps: 5 },
      num_train_epochs: {}, // max_steps is set: epochs do not apply (Transformers: max_steps overrides them)
      max_steps: { max_steps: 77 },
      per_device_train_batch_size: { per_device_train_batch_size: 4, per_device_eval_batch_size: 4 },
      gradient_accumulation_steps: { gradient_accumulation_steps: 3 },
      max_length: { max_length: 96 },
      weight_decay: { weight_decay: 0.01 },
      adam_beta1: { adam_beta1: 0.85 },
      adam_beta2: { adam_beta2: 0.98 },
      adam_epsilon: { adam_epsilon: 1e-7 },
      max_grad_norm: { max_grad_norm: 0.5 },
      eval_steps: { eval_steps: 11, eval_strategy: 'steps' },
      early_stopping_patience: {}, // `trl sft` takes no callbacks: a note says so when it is set
      seed: { seed: 42 },
    };
    for (const [field, flags] of Object.entries(expected)) {
      for (const [k, value] of Object.entries(flags)) expect(v[k], `${field} → ${k}`).toEqual(value);
    }
    expect(c).toEqual(CONFIG);
    expect(v).not.toHaveProperty('num_train_epochs');
    expect(v).toMatchObject({
      model_name_or_path: BASE,
      use_peft: true,
      lora_task_type: 'CAUSAL_LM',
      lora_r: 4,
      lora_alpha: 12,
      lora_dropout: 0.05,
      lora_target_modules: ['q_proj', 'v_proj'],
      use_rslora: true,
      completion_only_loss: true,
      packing: false,
      dataset_name: './data',
      dataset_train_split: 'train',
      dataset_test_split: 'validation',
      output_dir: 'output',
    });
    expect(FLAGS.lr_scheduler_type).toContain(v.lr_scheduler_type);
  });

  it('schedules: cosine to a floor or to zero, linear to zero or to a floor, constant with and without warm-up', () => {
    const c = (lr_scheduler_type: TrainConfig['lr_scheduler_type'], min_lr_rate: number, warmup_steps = 10) => ({ ...CONFIG, lr_scheduler_type, min_lr_rate, warmup_steps });
    expect(scheduleFlags(c('cosine', 0.1), 100).flags).toEqual({ lr_scheduler_type: 'cosine_with_min_lr', lr_scheduler_kwargs: { min_lr_rate: 0.1 } });
    expect(scheduleFlags(c('cosine', 0), 100).flags).toEqual({ lr_scheduler_type: 'cosine' });
    expect(scheduleFlags(c('linear', 0), 100).flags).toEqual({ lr_scheduler_type: 'linear' });
    const floor = scheduleFlags(c('linear', 0.2), 100);
    expect(floor.flags).toEqual({
      lr_scheduler_type: 'warmup_stable_decay',
      lr_scheduler_kwargs: { num_stable_steps: 0, num_decay_steps: 90, decay_type: 'linear', min_lr_ratio: 0.2 },
    });
    expect(floor.notes.join(' ')).toMatch(/90 steps after warm-up/);
    expect(scheduleFlags(c('constant', 0.1), 100).flags).toEqual({ lr_scheduler_type: 'constant_with_warmup' });
    expect(scheduleFlags(c('constant', 0.1, 0), 100).flags).toEqual({ lr_scheduler_type: 'constant' });
    for (const s of ['cosine_with_min_lr', 'cosine', 'linear', 'warmup_stable_decay', 'constant_with_warmup', 'constant']) expect(FLAGS.lr_scheduler_type).toContain(s);
  });

  it('a run by epochs sets num_train_epochs, not max_steps, and says how many steps it was here', async () => {
    const config = { ...CONFIG, max_steps: -1, num_train_epochs: 3 };
    const plan = await planOf(sample('pirate-qa.jsonl'), 'pirate-qa.jsonl', LORA, config);
    const s = sftConfig(plan, BASE);
    expect(s.values.num_train_epochs).toBe(3);
    expect(s.values).not.toHaveProperty('max_steps');
    expect(s.notes.join(' ')).toContain(`3 epochs (num_train_epochs), ${plan.steps} steps here`);
  });

  it('loss and packing follow the data: completion-only for prompt-completion and Alpaca, assistant-only for messages, wrapped packing for text', async () => {
    const pc = sftConfig(await planOf(sample('pirate-qa.jsonl'), 'pirate-qa.jsonl'), BASE);
    const alpaca = sftConfig(await planOf(ALPACA, 'alpaca.jsonl'), BASE);
    const chatRun = sftConfig(await planOf(sample('pip-chat.jsonl'), 'pip-chat.jsonl'), BASE);
    const prose = sftConfig(await planOf(sample('small-fables.txt'), 'small-fables.txt'), BASE);
    for (const s of [pc, alpaca]) expect(s.values).toMatchObject({ completion_only_loss: true, packing: false });
    expect(chatRun.values).toMatchObject({ assistant_only_loss: true, packing: false });
    expect(chatRun.notes.join(' ')).toMatch(/\{% generation %\}/);
    expect(prose.values).toMatchObject({ packing: true, packing_strategy: 'wrapped' });
    for (const s of [chatRun, prose]) expect(s.values).not.toHaveProperty('completion_only_loss');
    for (const s of [pc, alpaca, prose]) expect(s.values).not.toHaveProperty('assistant_only_loss');
  });

  it('with nothing held out there is no valid.jsonl, no test split and no evaluation', async () => {
    const plan = await planOf(sample('pirate-qa.jsonl').split('\n')[0], 'one.jsonl');
    expect(plan.data.examples.validation).toHaveLength(0);
    const ex = exportRun(plan, { baseModel: BASE, gpus: 2 });
    expect(ex.files.map((f) => f.name)).not.toContain('data/valid.jsonl');
    const v = sftConfig(plan, BASE).values;
    expect(v.eval_strategy).toBe('no');
    expect(v).not.toHaveProperty('dataset_test_split');
    expect(v).not.toHaveProperty('eval_steps');
    expect(fileOf(ex, 'sft.yaml')).toContain('eval_strategy: "no"\n');
  });
});

describe('methods', () => {
  it('LoRA on one module: an expression that matches exactly the modules the one-name list matched', () => {
    for (const name of ['q_proj', 'down_proj', 'self_attn.o_proj']) {
      const regex = trlTargetModules([name]);
      expect(typeof regex).toBe('string');
      for (const lin of allLinears(architectureFor(cfg))) expect(isTargetModule(regex, lin.module), lin.module).toBe(isTargetModule([name], lin.module));
    }
    expect(trlTargetModules(['q_proj', 'v_proj'])).toEqual(['q_proj', 'v_proj']);
    expect(trlTargetModules('all-linear')).toBe('all-linear');
  });

  it('LoRA on some layers and prefix tuning: a PEFT config for sft_peft.py, no use_peft flag, and a note saying why', async () => {
    const layered: MethodConfig = { ...defaultMethod('LORA'), layers_to_transform: [1, 3] };
    const l = methodFlags(layered, cfg);
    expect(l.flags).toEqual({});
    expect(l.peftConfig).toEqual({
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      r: 8,
      lora_alpha: 16,
      lora_dropout: 0,
      // all-linear cannot go with layers_to_transform in PEFT: the projections it picks, by name
      target_modules: ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'],
      use_rslora: false,
      layers_to_transform: [1, 3],
      bias: 'none',
    });
    const p = methodFlags({ peft_type: 'PREFIX_TUNING', num_virtual_tokens: 6 }, cfg);
    expect(p.peftConfig).toEqual({ peft_type: 'PREFIX_TUNING', task_type: 'CAUSAL_LM', num_virtual_tokens: 6, prefix_projection: false });
    for (const m of [l, p]) expect(m.notes.join(' ')).toMatch(/sft_peft\.py .*would train every weight/);

    const ex = exportRun(await planOf(sample('pip-chat.jsonl'), 'pip-chat.jsonl', { peft_type: 'PREFIX_TUNING', num_virtual_tokens: 6 }), { baseModel: BASE, gpus: 4 });
    expect(JSON.parse(fileOf(ex, 'peft_config.json'))).toEqual(p.peftConfig);
    expect(fileOf(ex, 'sft_peft.py')).toContain('get_peft_config(json.load(f))');
    expect(fileOf(ex, 'sft.yaml')).not.toMatch(/use_peft/);
    expect(fileOf(ex, 'sft.yaml').split('\n')[1]).toBe('# Run from this folder: python sft_peft.py --config sft.yaml   (the method is in peft_config.json: not `trl sft`, which would train every weight)');
    expect(ex.command).toBe('python sft_peft.py --config sft.yaml');
    expect(fileOf(ex, 'README.md')).toContain('accelerate launch --config_file accelerate/ddp.yaml sft_peft.py --config sft.yaml');
  });

  it('a bottleneck adapter, which PEFT lacks, exports as LoRA of about its size on the same projections, and says so', async () => {
    const bn: MethodConfig = { peft_type: 'BOTTLENECK', bottleneck_size: 16, non_linearity: 'relu', placement: ['self_attn', 'mlp'] };
    const { lora, params, bottleneckParams } = bottleneckAsLora(bn, cfg);
    expect(lora.target_modules).toEqual(['self_attn.o_proj', 'mlp.down_proj']);
    expect(bottleneckParams).toBe(trainableParamCount(bn, cfg));
    expect(params).toBe(trainableParamCount(lora, cfg));
    // the nearest rank: one step either way is no closer
    const perRank = trainableParamCount({ ...lora, r: 1 }, cfg);
    expect(Math.abs(params - bottleneckParams)).toBeLessThanOrEqual(perRank / 2);
    expect(lora.lora_alpha).toBe(2 * lora.r);

    const plan = await planOf(sample('small-fables.txt'), 'small-fables.txt', bn);
    const s = sftConfig(plan, BASE);
    expect(s.values).toMatchObject({ use_peft: true, lora_r: lora.r, lora_alpha: 2 * lora.r, lora_target_modules: ['self_attn.o_proj', 'mlp.down_proj'] });
    expect(s.notes[0]).toMatch(/^PEFT has no bottleneck adapter, so TRL cannot train this run's method/);
    expect(s.notes[0]).toContain(`LoRA r ${lora.r}`);
    const ex = exportRun(plan, { baseModel: BASE, gpus: 2 });
    expect(ex.notes[0]).toBe(s.notes[0]);
    expect(fileOf(ex, 'README.md')).toContain(s.notes[0]);
    expect(fileOf(ex, 'sft.yaml')).toContain('# Not the run\'s method: LoRA stands in for the bottleneck adapter');

    const one = bottleneckAsLora({ ...bn, placement: ['mlp'] }, cfg);
    expect(one.lora.target_modules).toEqual(['mlp.down_proj']);
  });

  it('full fine-tuning: no PEFT flags, and the README loads a model, not an adapter', async () => {
    const plan = await planOf(sample('pirate-qa.jsonl'), 'pirate-qa.jsonl', { peft_type: 'FULL' });
    const s = sftConfig(plan, BASE);
    for (const k of Object.keys(s.values)) expect(k).not.toMatch(/^(use_peft|lora_|use_rslora)/);
    const readme = fileOf(exportRun(plan, { baseModel: BASE, gpus: 2 }), 'README.md');
    expect(readme).toContain('AutoModelForCausalLM.from_pretrained("output")');
    expect(readme).not.toContain('AutoPeftModelForCausalLM');
  });
});

describe('data files', () => {
  const cases: [string, string, string][] = [
    ['prompt-completion', 'pirate-qa.jsonl', sample('pirate-qa.jsonl')],
    ['messages', 'pip-chat.jsonl', sample('pip-chat.jsonl')],
    ['text', 'small-fables.txt', sample('small-fables.txt')],
    ['alpaca', 'alpaca.jsonl', ALPACA],
  ];
  for (const [format, file, body] of cases) {
    it(`${format}: train.jsonl and valid.jsonl read back through the page's reader as the run's examples`, async () => {
      const plan = await planOf(body, file);
      expect(plan.data.format).toBe(format);
      const ex = exportRun(plan, { baseModel: BASE, gpus: 2 });
      for (const [name, examples] of [['data/train.jsonl', plan.data.examples.train], ['data/valid.jsonl', plan.data.examples.validation]] as const) {
        expect(examples.length).toBeGreaterThan(0);
        const back = await parseDatasetText(fileOf(ex, name), 'train.jsonl');
        expect(back.problems).toEqual([]);
        expect(back.examples).toHaveLength(examples.length);
        // The same segments, so the same tokens and the same loss mask.
        expect(back.examples.map((e) => renderExample(e, { chatTemplate: chat }))).toEqual(examples.map((e) => renderExample(e, { chatTemplate: chat })));
        if (format === 'alpaca') expect(back.format).toBe('prompt-completion');
        else expect(withoutWhere(back.examples)).toEqual(withoutWhere(examples));
      }
      expect(plan.data.examples.train.length + plan.data.examples.validation.length).toBe(plan.data.trainExamples + plan.data.validationExamples);
    });
  }

  it('preference pairs are written in TRL\'s preference format, the implicit-prompt form when they have no prompt', async () => {
    const body = [
      { prompt: 'Say hi.', chosen: 'Hi!', rejected: 'No.' },
      { chosen: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }], rejected: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Go away.' }] },
    ];
    const parsed = await parseDatasetText(body.map((r) => JSON.stringify(r)).join('\n'), 'prefs.jsonl');
    expect(trlJsonl(parsed.examples).trim().split('\n').map((l) => JSON.parse(l))).toEqual(body);
  });
});

describe('the export', () => {
  it('refuses preference data with the page\'s note, and names a missing base model and a bad GPU count', async () => {
    const plan = await planOf(sample('pirate-qa.jsonl'), 'pirate-qa.jsonl');
    const preference = { ...plan, data: { ...plan.data, format: 'preference' as const } };
    expect(exportProblems(preference, { baseModel: BASE, gpus: 2 })).toEqual([PREFERENCE_NOTE]);
    expect(() => exportRun(preference, { baseModel: BASE, gpus: 2 })).toThrow(PREFERENCE_NOTE);
    const bad = exportProblems(plan, { baseModel: ' ', gpus: 0 });
    expect(bad).toHaveLength(2);
    expect(bad[0]).toMatch(/name the model TRL should train/);
    expect(bad[1]).toMatch(/GPUs must be a whole number of at least 1, not 0/);
    expect(exportProblems(plan, { baseModel: 'my model', gpus: 2 })[0]).toMatch(/spaces/);
  });

  it('Accelerate: one GPU, DDP, FSDP and ZeRO-2, the multi-GPU ones on the GPUs asked for; the README spells out each effective batch', async () => {
    const setups = accelerateSetups(4);
    expect(setups.map((s) => [s.file, s.values.distributed_type, s.values.num_processes])).toEqual([
      ['single_gpu.yaml', 'NO', 1],
      ['ddp.yaml', 'MULTI_GPU', 4],
      ['fsdp.yaml', 'FSDP', 4],
      ['zero2.yaml', 'DEEPSPEED', 4],
    ]);
    expect(setups[3].values.deepspeed_config).toMatchObject({ zero_stage: 2 });
    for (const s of setups) for (const k of Object.keys(s.values)) expect(FLAGS.accelerate.top).toContain(k);

    const plan = await planOf(sample('pirate-qa.jsonl'), 'pirate-qa.jsonl', LORA, CONFIG);
    const ex = exportRun(plan, { baseModel: BASE, gpus: 4 });
    const readme = fileOf(ex, 'README.md');
    expect(readme).toContain('| `accelerate/single_gpu.yaml` | NO | 1 | 4 × 3 × 1 = 12 |');
    expect(readme).toContain('| `accelerate/ddp.yaml` | MULTI_GPU | 4 | 4 × 3 × 4 = 48 |');
    expect(readme).toContain('accelerate launch --config_file accelerate/zero2.yaml -m trl.scripts.sft --config sft.yaml');
    expect(readme).toContain('trl sft --config sft.yaml');
    expect(readme).toContain('AutoPeftModelForCausalLM.from_pretrained("output", is_trainable=True)');
    expect(readme).toContain("- Warm-up: the page's step s (from 0) runs at (s + 1)/5 of the peak learning rate, Transformers' at s/5");
    expect(ex.command).toBe('trl sft --config sft.yaml');
    // README names every file, and only files that are there
    const named = [...readme.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]).filter((n) => !n.startsWith('accelerate/') || ex.files.some((f) => f.name === n));
    expect(new Set(named)).toEqual(new Set(ex.files.map((f) => f.name)));
  });

  it('the .zip holds every file', async () => {
    const ex = exportRun(await planOf(sample('pirate-qa.jsonl'), 'pirate-qa.jsonl'), { baseModel: BASE, gpus: 2 });
    const entries = await readZip(ex.zip());
    expect(entries.map((e) => e.name)).toEqual(ex.files.map((f) => f.name));
    for (const e of entries) expect(e.data).toEqual(ex.files.find((f) => f.name === e.name)!.data);
  });

  const runs: [string, () => Promise<TrainingPlan>][] = [
    ['LoRA, prompt-completion', () => planOf(sample('pirate-qa.jsonl'), 'pirate-qa.jsonl', LORA, CONFIG)],
    ['LoRA on one module, Alpaca, by epochs, linear decay to a floor', () =>
      planOf(ALPACA, 'alpaca.jsonl', { ...LORA, target_modules: ['o_proj'] }, { ...CONFIG, max_steps: -1, lr_scheduler_type: 'linear', min_lr_rate: 0.1 })],
    ['prefix tuning, messages', () => planOf(sample('pip-chat.jsonl'), 'pip-chat.jsonl', { peft_type: 'PREFIX_TUNING', num_virtual_tokens: 4 })],
    ['bottleneck, text', () => planOf(sample('small-fables.txt'), 'small-fables.txt', defaultMethod('BOTTLENECK'))],
    ['full fine-tuning, one example', () => planOf(sample('pirate-qa.jsonl').split('\n')[0], 'one.jsonl', { peft_type: 'FULL' })],
  ];
  for (const [what, planFor] of runs) {
    it(`${what}: PyYAML and json read every file back as written, with TRL's and Accelerate's names (tests/python/check_trl_export.py)`, async () => {
      const plan = await planFor();
      const ex = exportRun(plan, { baseModel: BASE, gpus: 3 });
      const sft = sftConfig(plan, BASE);
      const zip = join(tmp, 'run.zip');
      const expect_ = join(tmp, 'expected.json');
      writeFileSync(zip, ex.zip());
      writeFileSync(
        expect_,
        JSON.stringify({
          files: ex.files.map((f) => f.name),
          yaml: { 'sft.yaml': sft.values, ...Object.fromEntries(accelerateSetups(3).map((s) => [`accelerate/${s.file}`, s.values])) },
          jsonl: {
            'data/train.jsonl': fileOf(ex, 'data/train.jsonl').trim().split('\n').map((l) => JSON.parse(l)),
            ...(plan.data.examples.validation.length ? { 'data/valid.jsonl': fileOf(ex, 'data/valid.jsonl').trim().split('\n').map((l) => JSON.parse(l)) } : {}),
          },
        }),
      );
      const result = python([zip, '--expect', expect_]);
      expect(result.problems).toEqual([]);
      expect(result.yaml).toContain('sft.yaml');
    }, 60_000);
  }

  it('the Python check finds what is wrong: a key TRL does not know, a value read back as another type, a data file datasets would also read', async () => {
    const plan = await planOf(sample('pirate-qa.jsonl'), 'pirate-qa.jsonl');
    const ex = exportRun(plan, { baseModel: BASE, gpus: 2 });
    const { writeZip } = await import('../../src/lib/peft/zip');
    const enc = (s: string) => new TextEncoder().encode(s);
    const broken = ex.files.map((f) => (f.name === 'sft.yaml' ? { name: f.name, data: enc(fileOf(ex, 'sft.yaml').replace('learning_rate: 0.002', 'learning_rate: 2e-3') + 'lora_rank: 8\n') } : f));
    broken.push({ name: 'data/extra.jsonl', data: enc('{"text": "x"}\n') });
    const zip = join(tmp, 'broken.zip');
    writeFileSync(zip, writeZip(broken));
    const problems = python([zip]).problems.join('\n');
    expect(problems).toMatch(/\['lora_rank'\] are not fields of TRL/);
    expect(problems).toMatch(/learning_rate must read as float, got '2e-3'/);
    expect(problems).toMatch(/datasets would read every data file there/);
    expect(problems).toMatch(/README.md does not say what data\/extra.jsonl is/);
  }, 60_000);
});

describe('the YAML writer', () => {
  it('writes maps, lists, lists of maps, empty ones and comments in block style', () => {
    const doc = toYaml(
      { name: 'x', nested: { a: 1, b: [1, 2], c: {} }, list: [{ path: 'json', split: 'train' }, 'plain'], empty: [] },
      { header: ['Header line.'], comments: { nested: ['About nested.'] } },
    );
    expect(doc).toBe(
      [
        '# Header line.',
        '',
        'name: x',
        '# About nested.',
        'nested:',
        '  a: 1',
        '  b:',
        '    - 1',
        '    - 2',
        '  c: {}',
        'list:',
        '  - path: json',
        '    split: train',
        '  - plain',
        'empty: []',
        '',
      ].join('\n'),
    );
  });

  it('writes numbers YAML 1.1 reads as the same type, and quotes strings that would read as something else', () => {
    expect([8, -1, 0, 2e-3, 1e-8, 1.5e-7, 0.5, 1e21, -0].map(yamlNumber)).toEqual(['8', '-1', '0', '0.002', '1.0e-8', '1.5e-7', '0.5', '1.0e+21', '-0.0']);
    expect(() => yamlNumber(NaN)).toThrow(/not a finite number/);
    expect(['q_proj', 'HuggingFaceTB/SmolLM2-360M-Instruct', './data', 'all-linear'].map(yamlString)).toEqual([
      'q_proj',
      'HuggingFaceTB/SmolLM2-360M-Instruct',
      './data',
      'all-linear',
    ]);
    expect(['no', 'Yes', 'null', '1e3', '', ' x', 'a: b', '#x', 'x #y', "it's", '-x', '.inf'].every((s) => yamlString(s).startsWith('"'))).toBe(true);
  });

  it('PyYAML reads every value back as written: awkward strings, every kind of number, nesting', () => {
    const strings = [
      'no', 'NO', 'off', 'y', 'True', 'null', '~', '', ' ', '  lead', 'trail  ', '1e3', '0x10', '012', '1_000', '.5', '.nan', '+1', '1:20',
      'a: b', 'a #b', '#c', '- d', '? e', '[f]', '{g}', '&h', '*i', '!j', '|k', '>l', '%m', '@n', '`o', '"p"', "'q'", 'r\\s', 't\nu', 'v\tw',
      'x\r\ny', '\u0000\u0007\u001b\u007f', '\u0085 \u2028 \u2029 \ufeff', 'é ü 中 😀', '\ud800 lone', 'end\\', '(?:.*\\.)?q_proj',
    ];
    const numbers = [0, 1, -1, 3e-4, 2e-5, 1e-8, 0.1, 1 / 3, 123456.789, 1e21, 5e-324, 1.7976931348623157e308, -2.5e-10];
    const cases: { yaml: string; value: unknown }[] = [
      ...strings.map((s) => ({ value: { s, list: [s], nested: { [s === '' ? 'empty' : 'k']: s } } })),
      ...numbers.map((n) => ({ value: { n, list: [n, { n }] } })),
      { value: { t: true, f: false, z: null, e: [], m: {}, deep: [[1, [2, []]], { a: [{ b: 'c' }] }] } },
    ].map(({ value }) => ({ yaml: toYaml(value as YamlMap), value }));
    // comments with characters PyYAML refuses anywhere in a file (a dataset's name can hold anything)
    cases.push({ yaml: toYaml({ k: 'v' }, { header: ['name \u0001 \u2028 \ud800 \ufffe', 'two\nlines'], comments: { k: ['# "\\'] } }), value: { k: 'v' } });
    const file = join(tmp, 'roundtrip.json');
    writeFileSync(file, JSON.stringify(cases));
    const result = python(['--roundtrip', file]);
    expect(result.problems).toEqual([]);
    expect(result.cases).toBe(cases.length);
  }, 60_000);
});

describe("the training screen's export (src/ui/train/export-run.ts)", () => {
  it('offers the plan’s model when it is a Hub id, names the .zip after the run, and returns the same files as export-run, or every problem', async () => {
    const plan = await planOf(sample('pirate-qa.jsonl'), 'pirate-qa.jsonl', LORA, CONFIG);
    expect(defaultBaseModel(plan)).toBe('');
    expect(defaultBaseModel({ ...plan, model: { ...plan.model, id: 'HuggingFaceTB/SmolLM2-135M-Instruct' } })).toBe('HuggingFaceTB/SmolLM2-135M-Instruct');
    expect(exportFileName(plan)).toBe('LoRA-r4-pirate-qa.jsonl-trl.zip');

    const r = exportForTrl(plan, { baseModel: BASE, gpus: 2 });
    if (!r.ok) throw new Error(r.problems.join('; '));
    const direct = exportRun(plan, { baseModel: BASE, gpus: 2 });
    expect((await readZip(r.zip)).map((e) => [e.name, text(e.data)])).toEqual(direct.files.map((f) => [f.name, text(f.data)]));
    expect(r.command).toBe('trl sft --config sft.yaml');

    const bad = exportForTrl(plan, { baseModel: '', gpus: 2 });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems[0]).toMatch(/name the model TRL should train/);
  });
});

// A run, exported for the tools the field uses when it outgrows the browser: Hugging Face TRL to
// train (SFT now; DPO and reward modelling when the app has them) on Accelerate (one GPU, DDP, FSDP,
// DeepSpeed ZeRO-2). One .zip, unzipped and run from its folder:
//
//   README.md                 what each file is, the command for each setup, the effective batch,
//                             every way the TRL run differs from the page's, how to bring the
//                             adapter back and how to continue in Python
//   sft.yaml                  `trl sft --config sft.yaml` (trl.ts)
//   data/train.jsonl          exactly the examples the run used (the plan's data.examples), in TRL's
//   data/valid.jsonl          formats; valid.jsonl only when the run held some out
//   peft_config.json          only for what trl sft's flags cannot express (prefix tuning, LoRA on
//   sft_peft.py               some layers): the PEFT config and TRL's SFT script that reads it
//   accelerate/*.yaml         single_gpu, ddp, fsdp, zero2 (accelerate.ts)
//   playground.json           the run as the page planned it, in the page's own names
//
// The page's export button and `lora-playground export-run` both call exportRun.

import { describeMethod, METHOD_LABELS } from '../adapters/config.ts';
import { PREFERENCE_NOTE } from '../data';
import { writeZip } from '../peft/zip.ts';
import type { TrainingPlan } from '../train/plan.ts';
import { describeObjective, isPreference, SFT } from '../train/objective.ts';
import { ACCELERATE_DIR, type AccelerateSetup, accelerateSetups } from './accelerate.ts';
import sftPeftScript from './sft_peft.py?raw';
import {
  OUTPUT_DIR,
  PEFT_CONFIG_FILE,
  PEFT_SCRIPT_FILE,
  sftConfig,
  TRAIN_FILE,
  trlJsonl,
  type TrlConfig,
  VALID_FILE,
  VALIDATION_SPLIT,
} from './trl.ts';
import { toYaml } from './yaml.ts';

export interface ExportOptions {
  /** model_name_or_path: the Hub id (or a folder on the training machine) TRL trains */
  baseModel: string;
  /** processes (GPUs) the multi-GPU Accelerate configs start */
  gpus: number;
}

export const DEFAULT_GPUS = 2;

export class ExportError extends Error {
  /** every reason the run cannot be exported, each a sentence */
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('; '));
    this.name = 'ExportError';
    this.problems = problems;
  }
}

export interface ExportedFile {
  name: string;
  data: Uint8Array;
}

export interface RunExport {
  files: ExportedFile[];
  /** every way the TRL run differs from the page's, each a sentence (also in README.md) */
  notes: string[];
  /** the command that trains on one GPU */
  command: string;
  /** All files in one .zip (stored, not compressed). */
  zip(modified?: Date): Uint8Array;
}

/** Every reason `exportRun` would refuse; [] when it would not. */
export function exportProblems(plan: TrainingPlan, opts: ExportOptions): string[] {
  const p: string[] = [];
  // The export writes TRL's SFT run. Preference data under SFT is refused as the page refuses it; a
  // preference objective's run (trl dpo, cpo, orpo) is not written yet, and says so.
  const objective = plan.objective ?? SFT;
  if (isPreference(objective)) {
    p.push(`${describeObjective(objective)} cannot be exported yet: the export writes TRL's supervised fine-tuning run (trl sft), not its preference trainers`);
  } else if (plan.data.format === 'preference') p.push(PREFERENCE_NOTE);
  if (opts.baseModel.trim() === '') p.push('name the model TRL should train (a Hugging Face Hub id such as HuggingFaceTB/SmolLM2-360M-Instruct, or a folder)');
  else if (/[\s\p{Cc}]/u.test(opts.baseModel)) p.push(`the base model ${JSON.stringify(opts.baseModel)} has spaces or control characters: give a Hub id or a folder path`);
  if (!Number.isInteger(opts.gpus) || opts.gpus < 1) p.push(`the number of GPUs must be a whole number of at least 1, not ${opts.gpus}`);
  if (plan.data.examples.train.length === 0) p.push('the plan has no training example to export');
  return p;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** The data formats' names in TRL's terms, for the README. */
const TRL_FORMATS: Record<TrainingPlan['data']['format'], string> = {
  text: 'language modelling {"text"}',
  'prompt-completion': 'prompt-completion {"prompt", "completion"}',
  alpaca: 'prompt-completion {"prompt", "completion"} (each Alpaca record rendered with the Alpaca prompt the page uses)',
  messages: 'conversational {"messages"}',
  preference: 'preference {"prompt", "chosen", "rejected"}',
};

/** The command that runs `setup`: trl's own CLI on one GPU, its SFT module under Accelerate otherwise. */
function launchCommand(setup: AccelerateSetup | null, script: boolean): string {
  const target = script ? `${PEFT_SCRIPT_FILE} --config sft.yaml` : '-m trl.scripts.sft --config sft.yaml';
  if (!setup) return script ? `python ${PEFT_SCRIPT_FILE} --config sft.yaml` : 'trl sft --config sft.yaml';
  return `accelerate launch --config_file ${ACCELERATE_DIR}/${setup.file} ${target}`;
}

function readme(plan: TrainingPlan, opts: ExportOptions, sft: TrlConfig, setups: AccelerateSetup[], files: [string, string][], notes: string[]): string {
  const c = plan.config;
  const d = plan.data;
  const script = sft.method.peftConfig !== null;
  const B = c.per_device_train_batch_size;
  const GA = c.gradient_accumulation_steps;
  const method = plan.method;
  const trained = sft.method.trained;
  const lines: string[] = [
    `# ${describeMethod(method)} on ${d.name}: exported for TRL and Accelerate`,
    '',
    `A LoRA Playground run, planned on \`${plan.model.id}\`, handed to Hugging Face TRL to train \`${opts.baseModel}\`: ` +
      `${plural(d.examples.train.length, 'training example')}` +
      `${d.examples.validation.length ? `, ${plural(d.examples.validation.length, 'validation example')}` : ''}, ` +
      `${c.max_steps > 0 ? plural(c.max_steps, 'step') : plural(c.num_train_epochs, 'epoch')}.`,
    '',
    'Unzip it and run every command from its folder:',
    '',
    '```sh',
    'unzip run.zip -d run && cd run',
    `pip install trl peft accelerate datasets${setups.some((s) => s.file === 'zero2.yaml') ? '   # and deepspeed, for accelerate/zero2.yaml' : ''}`,
    '```',
    '',
    '## Files',
    '',
    '| File | What it is |',
    '| --- | --- |',
    ...files.map(([name, what]) => `| \`${name}\` | ${what} |`),
    '',
    '## Train',
    '',
    'On one GPU:',
    '',
    '```sh',
    launchCommand(null, script),
    '```',
    '',
    'With Accelerate, one config file per setup:',
    '',
    '```sh',
    ...setups.map((s) => launchCommand(s, script)),
    '```',
    '',
    `The effective batch (examples per optimizer step) is per_device_train_batch_size × gradient_accumulation_steps × num_processes:`,
    '',
    '| Config | distributed_type | num_processes | Effective batch |',
    '| --- | --- | --- | --- |',
    ...setups.map((s) => `| \`${ACCELERATE_DIR}/${s.file}\` | ${s.values.distributed_type} | ${s.processes} | ${B} × ${GA} × ${s.processes} = ${B * GA * s.processes} |`),
    '',
    `The page's run took ${B} × ${GA} = ${B * GA} examples a step. To keep that on N GPUs, divide gradient_accumulation_steps ` +
      `(or per_device_train_batch_size) in sft.yaml by N. To use another number of GPUs, change num_processes in the config ` +
      `or add \`--num_processes N\` after \`accelerate launch\`.`,
    '',
    `Data: \`dataset_name: ./data\` makes \`datasets.load_dataset\` read the folder ${'`data/`'}, whose file names give the splits: ` +
      `\`${TRAIN_FILE}\` is "train"${d.examples.validation.length ? `, \`${VALID_FILE}\` is "${VALIDATION_SPLIT}" (dataset_test_split)` : ''}.`,
    '',
  ];
  lines.push(
    "## How this differs from the page's run",
    '',
    ...notes.map((n) => `- ${n}`),
    `- TRL tokenizes with \`${opts.baseModel}\`'s tokenizer${d.format === 'messages' ? ' and chat template' : ''}; the page checked the data ` +
      `(rendering, truncation at ${c.max_length} tokens, which tokens count) with \`${plan.model.id}\`'s.`,
    "- TRL trains in bf16 mixed precision (SFTConfig's default, and mixed_precision in the Accelerate configs), the page in float32. " +
      'On a GPU without bf16, set `bf16: false` and `fp16: true` in sft.yaml and `mixed_precision: fp16` in the Accelerate config.',
    `- A row of the page holds max_length + 1 tokens (max_length predictions); TRL truncates an example to max_length tokens.`,
    ...(c.warmup_steps > 0
      ? [`- Warm-up: the page's step s (from 0) runs at (s + 1)/${c.warmup_steps} of the peak learning rate, Transformers' at s/${c.warmup_steps} (its first step at 0).`]
      : []),
    '',
  );
  const adapterKind = trained.peft_type === 'FULL' ? null : METHOD_LABELS[trained.peft_type];
  lines.push('## Bring the result back', '');
  if (adapterKind) {
    lines.push(
      `TRL saves the trained ${adapterKind} adapter in \`${OUTPUT_DIR}/\`: \`adapter_config.json\` and \`adapter_model.safetensors\`. ` +
        "Drop the two files (or a .zip of them) on the page's Adapters panel with the model loaded, or use them from the command line:",
      '',
      '```sh',
      `lora-playground generate --model MODEL_FOLDER --adapter ${OUTPUT_DIR}/ --prompt "…"`,
      '```',
      '',
      'The page checks the adapter against the model it loads and names anything it cannot use.',
      '',
      '## Continue in Python',
      '',
      `The adapter folder loads with PEFT, trainable, on the base model its adapter_config.json names (base_model_name_or_path):`,
      '',
      '```python',
      'from peft import AutoPeftModelForCausalLM',
      'from transformers import AutoTokenizer',
      '',
      `model = AutoPeftModelForCausalLM.from_pretrained("${OUTPUT_DIR}", is_trainable=True)`,
      `tokenizer = AutoTokenizer.from_pretrained("${opts.baseModel}")`,
      '```',
      '',
      "An adapter exported from the page's Adapters panel loads the same way: unzip it and pass its folder" +
        (method.peft_type === 'BOTTLENECK' ? ' (not a bottleneck adapter, which PEFT cannot load).' : '.'),
      '',
    );
  } else {
    lines.push(
      `TRL saves the fine-tuned model in \`${OUTPUT_DIR}/\`, a model folder in the Hugging Face layout (config.json, model.safetensors, the tokenizer).`,
      '',
      '## Continue in Python',
      '',
      '```python',
      'from transformers import AutoModelForCausalLM, AutoTokenizer',
      '',
      `model = AutoModelForCausalLM.from_pretrained("${OUTPUT_DIR}")`,
      `tokenizer = AutoTokenizer.from_pretrained("${OUTPUT_DIR}")`,
      '```',
      '',
    );
  }
  return lines.join('\n');
}

/** The run, as the files of its export. Throws an ExportError naming every problem. */
export function exportRun(plan: TrainingPlan, opts: ExportOptions): RunExport {
  const problems = exportProblems(plan, opts);
  if (problems.length) throw new ExportError(problems);
  const d = plan.data;
  const sft = sftConfig(plan, opts.baseModel);
  const setups = accelerateSetups(opts.gpus);
  const script = sft.method.peftConfig !== null;
  const hasValidation = d.examples.validation.length > 0;

  const described: [string, string][] = [
    ['README.md', 'this file'],
    ['sft.yaml', `TRL's SFT configuration (the keys are SFTConfig's, ModelConfig's and ScriptArguments' fields): model, data, method, schedule, batch, loss`],
    [TRAIN_FILE, `the ${plural(d.examples.train.length, 'example')} the run trained on, in TRL's ${TRL_FORMATS[d.format]} format`],
    ...(hasValidation ? [[VALID_FILE, `the ${plural(d.examples.validation.length, 'example')} it validated on, same format`] as [string, string]] : []),
    ...(script
      ? ([
          [PEFT_CONFIG_FILE, "the method as a PEFT config (PeftConfig's fields), for what `trl sft`'s flags cannot express"],
          [PEFT_SCRIPT_FILE, `TRL's SFT script with the PEFT config read from ${PEFT_CONFIG_FILE}`],
        ] as [string, string][])
      : []),
    ...setups.map((s) => [`${ACCELERATE_DIR}/${s.file}`, `Accelerate config: ${s.title}`] as [string, string]),
    ['playground.json', "the run as LoRA Playground planned it, in the page's names (method, training config, model, data)"],
  ];
  const notes = [...sft.notes];

  const record = {
    model: plan.model.id,
    method: plan.method,
    config: plan.config,
    steps: plan.steps,
    data: {
      name: d.name,
      format: d.format,
      split: d.split,
      split_note: d.splitNote,
      train_examples: d.examples.train.length,
      validation_examples: d.examples.validation.length,
    },
    trainable_params: plan.estimate.trainableParams,
    exported_for: { model_name_or_path: opts.baseModel, gpus: opts.gpus },
  };
  const text: [string, string][] = [
    ['README.md', readme(plan, opts, sft, setups, described, notes)],
    ['sft.yaml', toYaml(sft.values, { header: sft.header, comments: sft.comments })],
    [TRAIN_FILE, trlJsonl(d.examples.train)],
    ...(hasValidation ? [[VALID_FILE, trlJsonl(d.examples.validation)] as [string, string]] : []),
    ...(script
      ? ([
          [PEFT_CONFIG_FILE, JSON.stringify(sft.method.peftConfig, null, 2) + '\n'],
          [PEFT_SCRIPT_FILE, sftPeftScript],
        ] as [string, string][])
      : []),
    ...setups.map((s) => [`${ACCELERATE_DIR}/${s.file}`, toYaml(s.values, { header: [`Accelerate config: ${s.title}.`, `accelerate launch --config_file ${ACCELERATE_DIR}/${s.file} …`] })] as [string, string]),
    ['playground.json', JSON.stringify(record, null, 2) + '\n'],
  ];
  const files = text.map(([name, t]) => ({ name, data: utf8(t) }));
  return { files, notes, command: launchCommand(null, script), zip: (modified?: Date) => writeZip(files, modified) };
}

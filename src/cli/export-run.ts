// `lora-playground export-run`: the run `train` would run, handed to TRL and Accelerate instead — for a
// bigger model, more data or several GPUs. The same flags as `train` make the same plan (plan.ts);
// the model folder is only read for its config.json and tokenizer (no GPU); export/run.ts writes the
// .zip the page's export button writes.

import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { DEFAULT_GPUS, exportProblems, exportRun, type ExportOptions } from '../lib/export/run.ts';
import type { Command, Parsed } from './args.ts';
import { InputError, loadFolderTokenizer } from './model.ts';
import type { Reporter } from './output.ts';
import { planRun, readRunFiles, RUN_FLAGS, runRequest } from './plan.ts';

const flags = {
  ...RUN_FLAGS,
  baseModel: {
    kind: 'string',
    value: 'ID',
    required: true,
    help: 'the model TRL trains: a Hugging Face Hub id such as HuggingFaceTB/SmolLM2-360M-Instruct, or a folder on the training machine (model_name_or_path)',
  },
  gpus: { kind: 'int', min: 1, default: DEFAULT_GPUS, help: 'GPUs (processes) the multi-GPU Accelerate configs start (num_processes)' },
  out: { kind: 'string', value: 'FILE.zip', required: true, help: 'new .zip for the export: sft.yaml, the data, Accelerate configs and a README' },
} as const;

export const exportRunCommand: Command<typeof flags> = {
  name: 'export-run',
  summary: 'write the run `train` would run as a .zip for TRL and Accelerate (DDP, FSDP, DeepSpeed)',
  description:
    'Takes the flags of `train`, plans the run as the page does (the dataset read and tokenized with --model), and writes\n' +
    'sft.yaml for `trl sft --config sft.yaml` training --base-model, the examples the run uses in TRL\'s formats, Accelerate\n' +
    'configs for one GPU, DDP, FSDP and ZeRO-2, and a README with the command for each. Nothing is trained.',
  flags,
  examples: [
    'lora-playground export-run --model models/brown-llama-4m --data static/samples/pirate-qa.jsonl --method lora --base-model HuggingFaceTB/SmolLM2-360M-Instruct --out pirate-trl.zip',
    'lora-playground export-run --model models/brown-llama-4m --data train.jsonl --valid valid.jsonl --method lora --r 16 --epochs 3 --base-model Qwen/Qwen2.5-1.5B-Instruct --gpus 8 --out run.zip',
  ],
};

type Args = Parsed<typeof flags>;

/** --out must be a new .zip in an existing folder. */
async function checkOut(path: string): Promise<string> {
  if (!path.toLowerCase().endsWith('.zip')) throw new InputError(`--out ${path}: name a .zip file`);
  const target = resolve(path);
  if (await stat(target).catch(() => null)) throw new InputError(`--out ${path}: already exists; give a new file name`);
  const parent = await stat(dirname(target)).catch(() => null);
  if (!parent?.isDirectory()) throw new InputError(`--out ${path}: the folder ${dirname(path)} does not exist`);
  return target;
}

export async function runExportRun(args: Args, out: Reporter, signal: AbortSignal): Promise<void> {
  const request = await runRequest(args);
  if (request.start) throw new InputError(`--from-adapter ${request.start.path}: export-run hands TRL a fresh run; continuing a saved adapter is not exported yet`);
  const target = await checkOut(args.out);
  const options: ExportOptions = { baseModel: args.baseModel, gpus: args.gpus };
  const files = await readRunFiles(args, out);
  out.status('model', `Reading ${args.model}'s tokenizer…`);
  const tokenizer = await loadFolderTokenizer(request.model, args.model);
  const plan = await planRun(request, args, files, { id: basename(request.model), config: request.modelConfig, tokenizer }, out, signal);
  const problems = exportProblems(plan, options);
  if (problems.length) throw new InputError(`this run cannot be exported: ${problems.join('; ')}`, problems);
  const exported = exportRun(plan, options);
  for (const note of exported.notes) out.warning(note);

  // Written beside the target and renamed into place: the .zip is whole or absent.
  const partial = join(dirname(target), `.${basename(target)}.partial-${process.pid}`);
  try {
    await writeFile(partial, exported.zip());
    await rename(partial, target);
  } catch (e) {
    await rm(partial, { force: true });
    throw e;
  }
  const names = exported.files.map((f) => f.name);
  out.result(
    'export-run',
    {
      out: args.out,
      files: names,
      notes: exported.notes,
      train_command: exported.command,
      base_model: options.baseModel,
      gpus: options.gpus,
      method: plan.method,
      config: plan.config,
      steps: plan.steps,
      train_examples: plan.data.examples.train.length,
      validation_examples: plan.data.examples.validation.length,
    },
    {
      out: [`${args.out}:`, ...names.map((n) => `  ${n}`)],
      note: [`Unzip it and run, from its folder: ${exported.command} (README.md has the Accelerate commands).`],
    },
  );
}

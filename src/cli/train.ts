// `lora-playground train`: the page's training run without the page. The flags, the files and the
// plan they make are plan.ts's (shared with export-run: the page's defaults, data layer and checks);
// the run is the run loop the page's worker drives (train/run.ts), with any objective (SFT, or DPO,
// SimPO, ORPO on preference pairs) and from any saved adapter (--from-adapter); the result is a PEFT
// adapter folder with a metrics.json, written whole or not at all.

import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Engine } from '../lib/engine.ts';
import { exportAdapter } from '../lib/peft/adapter.ts';
import { modelFolderFiles, TOKENIZER_FILE_NAMES, type FolderFile, type FolderSource } from '../lib/pretrain/folder.ts';
import type { TrainingPlan } from '../lib/train/plan.ts';
import { runTraining, type RunResult } from '../lib/train/run.ts';
import type { Command, Parsed } from './args.ts';
import { InputError, loadModel } from './model.ts';
import type { Reporter } from './output.ts';
import { readGeneral } from './general.ts';
import { planRun, readRunFiles, RUN_FLAGS, runRequest, type RunRequest } from './plan.ts';

const flags = {
  ...RUN_FLAGS,
  out: {
    kind: 'string',
    value: 'DIR',
    required: true,
    help: 'new or empty folder for the adapter (adapter_config.json, adapter_model.safetensors) and metrics.json; with --method full, a model folder (config.json, model.safetensors, tokenizer files)',
  },
} as const;

export const trainCommand: Command<typeof flags> = {
  name: 'train',
  summary: 'train a LoRA, bottleneck or prefix adapter, or every weight (full), on a dataset file (SFT, or DPO, SimPO, ORPO on preference pairs), as the page does',
  description:
    'Settings left out take the page\'s defaults (src/lib/train/config.ts DEFAULTS); the names in parentheses are the\n' +
    'adapter_config.json / TrainingArguments / DPOConfig fields they set. A preference objective counts --batch in pairs\n' +
    '(two rows each) and reports TRL\'s metrics (rewards/chosen, rewards/rejected, rewards/margins, rewards/accuracies,\n' +
    'logps/chosen, logps/rejected) per step and validation.',
  flags,
  examples: [
    'lora-playground train --model models/brown-llama-4m --data static/samples/pirate-qa.jsonl --method lora --steps 200 --out pirate-lora/',
    'lora-playground train --model models/brown-llama-4m --data train.jsonl --method lora --r 8 --alpha 16 --targets q_proj,v_proj --out my-adapter/',
    'lora-playground train --model models/brown-llama-4m --data train.jsonl --valid valid.jsonl --method prefix --prefix-tokens 8 --out p/ --json',
    'lora-playground train --model models/brown-llama-4m --data prefs.jsonl --method lora --objective dpo --beta 0.1 --steps 100 --out dpo-lora/',
    'lora-playground train --model models/brown-llama-4m --data prefs.jsonl --from-adapter sft-lora/ --objective dpo --out sft-then-dpo/',
    'lora-playground train --model models/brown-llama-4m --data static/samples/pirate-qa.jsonl --method full --steps 100 --out pirate-full/',
  ],
};

type Args = Parsed<typeof flags>;

/** What the run loop will be given, and the new or empty folder its adapter goes into. */
export interface TrainRequest extends RunRequest {
  out: string;
}

/** The run's request (plan.ts) and a usable --out: a new or empty folder. */
export async function trainRequest(args: Args): Promise<TrainRequest> {
  const request = await runRequest(args);
  const out = await stat(args.out).catch(() => null);
  if (out && !out.isDirectory()) throw new InputError(`--out ${args.out}: is a file, not a folder`);
  if (out && (await readdir(args.out)).length > 0) throw new InputError(`--out ${args.out}: the folder is not empty; give a new or empty folder`);
  return { ...request, out: args.out };
}

/**
 * metrics.json: what the run did, step by step, with its settings. A preference objective's points
 * carry TRL's metrics (`metrics`), and its last ones are repeated at the top level.
 */
/** The subfolder of --out that holds the best checkpoint's adapter. */
const BEST_DIR = 'best';

/** Whether the best weights are worth a folder of their own: trained (not step 0) and not the last. */
function keepsBest(run: RunResult): boolean {
  return run.best !== null && run.best.step > 0 && run.best.step !== run.step;
}

function metricsOf(plan: TrainingPlan, run: RunResult, trainableParams: number, from: string | null) {
  const lastTrain = run.history.train.at(-1)?.metrics;
  const lastValidation = run.history.validation.at(-1)?.metrics;
  return {
    status: run.status,
    steps: run.step,
    total_steps: run.totalSteps,
    model: plan.model.id,
    method: plan.method,
    objective: plan.objective,
    from_adapter: from,
    config: plan.config,
    data: {
      name: plan.data.name,
      format: plan.data.format,
      train_rows: plan.data.train.rows,
      validation_rows: plan.data.validation.rows,
      train_examples: plan.data.trainExamples,
      validation_examples: plan.data.validationExamples,
      split: plan.data.splitNote,
    },
    trainable_params: trainableParams,
    train_loss: run.history.train,
    validation_loss: run.history.validation,
    // The lowest validation loss, and where its weights were written when they are not the last ones.
    best: run.best ? { step: run.best.step, loss: run.best.loss, adapter: keepsBest(run) ? `${BEST_DIR}/` : null } : null,
    stopped_early: run.stoppedEarly,
    ...(lastTrain ? { train_metrics: lastTrain } : {}),
    ...(lastValidation ? { validation_metrics: lastValidation } : {}),
    tokens: run.tokens,
    elapsed_ms: run.elapsedMs,
    tokens_per_second: run.elapsedMs > 0 ? (run.tokens * 1000) / run.elapsedMs : 0,
  };
}

/** Writes the files into a new folder beside `out`, then renames it into place: `out` is whole or absent (or, when
 * `out` was filled meanwhile, the files stay in the new folder and the error says where). */
export async function writeFolder(out: string, files: { name: string; data: Uint8Array | string }[]): Promise<void> {
  const target = resolve(out);
  const partial = join(dirname(target), `.${basename(target)}.partial-${process.pid}`);
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  try {
    for (const f of files) {
      await mkdir(dirname(join(partial, f.name)), { recursive: true });
      await writeFile(join(partial, f.name), f.data);
    }
  } catch (e) {
    await rm(partial, { recursive: true, force: true });
    throw e;
  }
  // An empty --out (checked before training) gives way. A folder filled meanwhile (another run writing
  // there) is left alone, and the trained files stay in the partial folder, named, rather than lost.
  const filled = await rmdir(target).then(
    () => false,
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return false;
      if (e.code === 'ENOTEMPTY' || e.code === 'EEXIST') return true;
      throw e;
    },
  );
  if (filled) throw new Error(`${out} was filled by something else while this run trained; its files are kept in ${partial} instead`);
  await rename(partial, target);
}

/** What `pretrain` adds to a run: samples every N steps, and how the result is named. */
export interface TrainExtras {
  sample?: { every: number; prompt: string; maxNewTokens: number };
  /** the command the result event names ('train' unless given) */
  command?: string;
  /** extra fields for metrics.json (e.g. the new model's architecture) */
  metrics?: Record<string, unknown>;
}

export async function runTrain(args: Args, out: Reporter, signal: AbortSignal, extras: TrainExtras = {}): Promise<void> {
  const request = await trainRequest(args);
  for (const w of request.start?.warnings ?? []) out.warning(`--from-adapter ${request.start!.path}: ${w}`);
  const files = await readRunFiles(args, out);
  const model = await loadModel(args.model, out);
  try {
    const plan = await planRun(request, args, files, { id: model.id, config: model.engine.config, tokenizer: model.tokenizer }, out, signal);
    if (request.start) out.status('adapter', `Continuing the adapter ${request.start.path} (${plan.method.peft_type})`);
    const tok = model.tokenizer.tokenizer;
    const general = await readGeneral(args.general, tok, plan.config.max_length);
    const sample = extras.sample && {
      every: extras.sample.every,
      generate: async (engine: Engine) => {
        const ids: number[] = [];
        const prompt = tok.encode(extras.sample!.prompt);
        for await (const id of engine.generate(prompt, { maxNewTokens: extras.sample!.maxNewTokens, sampling: { temperature: 0, topK: 0, topP: 1, seed: 0 } })) ids.push(id);
        return extras.sample!.prompt + tok.decode(ids);
      },
    };
    const run = await runTraining(model.engine, { ...plan, start: request.start, general: general?.rows ?? null }, { onUpdate: (u) => out.train(u), signal, sample });
    if (run.status === 'diverged' || run.status === 'device-lost') throw new InputError(run.message);
    const method = model.engine.method ?? plan.method; // a reward model's carries its score head
    const weights = await model.engine.whileAlive(model.engine.exportWeights());
    const written =
      method.peft_type === 'FULL'
        ? modelFolderFiles(weights, await sourceFolder(request.model))
        : exportAdapter(method, weights, model.base).files;
    const metrics = {
      ...metricsOf(plan, run, model.engine.trainableParameters, request.start?.path ?? null),
      ...(general && run.general ? { general_text: generalMetrics(general.file, general.rows.countedTokens, run.general) } : {}),
      ...extras.metrics,
    };
    // The adapter at the lowest validation loss, beside the last one, when they differ (a model folder keeps the last weights only).
    const best = method.peft_type !== 'FULL' && keepsBest(run) ? exportAdapter(method, await model.engine.whileAlive(model.engine.exportWeights(run.best!.state)), model.base) : null;
    const bestFiles = best ? best.files.map((f) => ({ name: `${BEST_DIR}/${f.name}`, data: f.data })) : [];
    await writeFolder(request.out, [...written, ...bestFiles, { name: 'metrics.json', data: JSON.stringify(metrics, null, 2) + '\n' }]);
    const last = run.history.train.at(-1);
    const val = run.history.validation.at(-1);
    const said = (p: typeof last) => {
      if (!p) return '–';
      const m = p.metrics;
      return m ? `${p.loss.toFixed(4)} (rewards/accuracies ${m['rewards/accuracies'].toFixed(3)}, rewards/margins ${m['rewards/margins'].toFixed(4)})` : p.loss.toFixed(4);
    };
    const firstVal = run.history.validation[0];
    const forgetting = run.general
      ? [`${val ? `task loss ${val.loss.toFixed(3)}${firstVal && firstVal !== val ? ` (was ${firstVal.loss.toFixed(3)})` : ''} · ` : ''}` +
          `general text ppl ${Math.exp(run.general.after).toFixed(1)} (was ${Math.exp(run.general.before).toFixed(1)})`]
      : [];
    out.result(
      extras.command ?? 'train',
      { out: request.out, ...metrics },
      {
        out: [
          `${request.out}: ${written.map((f) => f.name).join(', ')}, metrics.json`,
          ...(best ? [`${join(request.out, BEST_DIR)}: the adapter at the lowest validation loss (step ${run.best!.step}, ${run.best!.loss.toFixed(4)})`] : []),
        ],
        note: [
          `${run.message} Loss ${said(last)}${val !== undefined ? `, validation ${said(val)}` : ''}; ` +
            `${Math.round(metrics.tokens_per_second)} tokens/s.`,
          ...forgetting,
        ],
      },
    );
  } finally {
    model.destroy();
  }
}

/** metrics.json's general_text: the forgetting measure, in nats and as perplexity. */
function generalMetrics(file: string, tokens: number, g: { before: number; after: number }) {
  return { file, tokens, loss_before: g.before, loss_after: g.after, perplexity_before: Math.exp(g.before), perplexity_after: Math.exp(g.after) };
}

/** What a full model folder copies from the folder the run started from: config, generation config, tokenizer files. */
async function sourceFolder(dir: string): Promise<FolderSource> {
  const text = (name: string) => readFile(join(dir, name), 'utf8').catch(() => null);
  const tokenizer: FolderFile[] = [];
  for (const name of TOKENIZER_FILE_NAMES) {
    const t = await text(name);
    if (t !== null) tokenizer.push({ name, data: t });
  }
  const generation = await text('generation_config.json');
  return { config: (await text('config.json'))!, ...(generation !== null ? { generationConfig: generation } : {}), tokenizer };
}

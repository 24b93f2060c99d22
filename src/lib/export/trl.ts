// Hugging Face TRL's side of an exported run: the examples in the dataset formats TRL reads, and the
// run's settings as the flags of TRL's command line (`trl sft --config sft.yaml`), whose YAML keys are
// the fields of TRL's ScriptArguments, SFTConfig (Transformers' TrainingArguments and TRL's own) and
// ModelConfig (use_peft, lora_r, lora_alpha, …).
//
//   data      data/train.jsonl, data/valid.jsonl: {text}, {prompt, completion} (Alpaca rendered into
//             it with the page's Alpaca prompt), {messages}, {prompt, chosen, rejected}; sft.yaml
//             points dataset_name at the folder, whose file names `datasets` maps to the splits
//             "train" and "validation"
//   method    LoRA as ModelConfig's lora_* flags; what those flags cannot say (prefix tuning, LoRA
//             on some layers only) as a PEFT config file for sft_peft.py; a bottleneck adapter, which
//             PEFT does not have, as LoRA of about the same size, with a note saying so; full
//             fine-tuning as no PEFT at all
//   schedule  cosine / linear / constant with warm-up and a floor (min_lr_rate) as lr_scheduler_type
//             and lr_scheduler_kwargs
//
// Each objective is one function from the plan to its YAML: sftConfig here; DPO (dpo.yaml) and
// reward modelling (reward.yaml) will add theirs beside it, sharing the data, method and schedule
// flags below.

import { describeMethod, isTargetModule, type LoraConfig, METHOD_LABELS, type MethodConfig } from '../adapters/config.ts';
import { allLinears } from '../adapters/lora.ts';
import { alpacaPrompt, type ChatMessage, type Example } from '../data';
import { architectureFor } from '../model/architecture.ts';
import type { ModelConfig } from '../model/config.ts';
import type { TrainConfig } from '../train/config.ts';
import { trainableParamCount } from '../train/memory.ts';
import type { TrainingPlan } from '../train/plan.ts';
import type { YamlMap, YamlValue } from './yaml.ts';

/** Where the data files sit in the export: one folder, so `datasets` sees nothing else. */
export const DATA_DIR = 'data';
export const TRAIN_FILE = `${DATA_DIR}/train.jsonl`;
/** `datasets` reads a file named valid.* as the split "validation" (its split keywords). */
export const VALID_FILE = `${DATA_DIR}/valid.jsonl`;
export const VALIDATION_SPLIT = 'validation';
/** Where TRL saves the trained adapter (output_dir): the folder to bring back. */
export const OUTPUT_DIR = 'output';
export const PEFT_CONFIG_FILE = 'peft_config.json';
export const PEFT_SCRIPT_FILE = 'sft_peft.py';

/** One line of a TRL dataset file. */
export type TrlRecord =
  | { text: string }
  | { prompt: string; completion: string }
  | { messages: ChatMessage[] }
  | { prompt?: string | ChatMessage[]; chosen: string | ChatMessage[]; rejected: string | ChatMessage[] };

/**
 * An example as TRL's dataset formats hold it. Alpaca becomes {prompt, completion} with the page's
 * Alpaca prompt, which is what the page trains on (data/templates.ts); the loss counts the same part.
 */
export function trlRecord(e: Example): TrlRecord {
  const copyMessages = (m: ChatMessage[]) => m.map(({ role, content }) => ({ role, content }));
  const textOrMessages = (v: string | ChatMessage[]) => (typeof v === 'string' ? v : copyMessages(v));
  switch (e.format) {
    case 'text':
      return { text: e.text };
    case 'prompt-completion':
      return { prompt: e.prompt, completion: e.completion };
    case 'alpaca':
      return { prompt: alpacaPrompt(e.instruction, e.input), completion: e.output };
    case 'messages':
      return { messages: copyMessages(e.messages) };
    case 'preference':
      // TRL's implicit-prompt form leaves the prompt out: it is inside chosen and rejected.
      return {
        ...(e.prompt === null ? {} : { prompt: textOrMessages(e.prompt) }),
        chosen: textOrMessages(e.chosen),
        rejected: textOrMessages(e.rejected),
      };
  }
}

/** A JSON Lines file of the examples, one record a line. */
export function trlJsonl(examples: readonly Example[]): string {
  return examples.map((e) => JSON.stringify(trlRecord(e)) + '\n').join('');
}

// ─── method ──────────────────────────────────────────────────────────────────────────────────────

export interface MethodFlags {
  /** ModelConfig's flags in sft.yaml ({} for full fine-tuning, and when a PEFT config file is used) */
  flags: YamlMap;
  /** a PEFT config (PeftConfig fields) for sft_peft.py, when the flags cannot express the method */
  peftConfig: Record<string, YamlValue> | null;
  /** what TRL trains: the run's method, or the LoRA that stands in for a bottleneck adapter */
  trained: MethodConfig;
  notes: string[];
}

/** The last two parts of a module path ('self_attn.o_proj'): as a target, it matches that module in every layer. */
const moduleName = (path: string) => path.split('.').slice(-2).join('.');
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * target_modules as ModelConfig's lora_target_modules flag. TRL turns a one-name list into the bare
 * string, which PEFT then reads as a regular expression matched against the whole module path (so
 * ["q_proj"] would match nothing); one name is therefore written as the expression that matches what
 * the list did: the name itself or any path ending in '.' + name.
 */
export function trlTargetModules(targets: string[] | string): string[] | string {
  if (typeof targets === 'string') return targets;
  return targets.length === 1 ? `(?:.*\\.)?${escapeRegExp(targets[0])}` : [...targets];
}

/** The PEFT fields of a LoRA config, as PEFT's LoraConfig names them. */
function loraPeftConfig(m: LoraConfig, cfg: ModelConfig): Record<string, YamlValue> {
  let targets: string[] | string = m.target_modules;
  // PEFT refuses layers_to_transform with a string target (all-linear or an expression): list the
  // projections it picks instead, by their names in every layer.
  if (typeof targets === 'string' && m.layers_to_transform) {
    const t = targets;
    targets = [...new Set(allLinears(architectureFor(cfg)).filter((l) => isTargetModule(t, l.module)).map((l) => moduleName(l.module)))];
  }
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    r: m.r,
    lora_alpha: m.lora_alpha,
    lora_dropout: m.lora_dropout,
    target_modules: typeof targets === 'string' ? targets : [...targets],
    use_rslora: m.use_rslora,
    layers_to_transform: m.layers_to_transform ? [...m.layers_to_transform] : null,
    bias: 'none',
  };
}

function loraFlags(m: LoraConfig): YamlMap {
  return {
    use_peft: true,
    lora_task_type: 'CAUSAL_LM',
    lora_r: m.r,
    lora_alpha: m.lora_alpha,
    lora_dropout: m.lora_dropout,
    lora_target_modules: trlTargetModules(m.target_modules),
    use_rslora: m.use_rslora,
  };
}

/**
 * The LoRA that stands in for a bottleneck adapter: on the projections whose outputs the adapters
 * follow (attention's output projection, the MLP's down projection), with the rank that gives about
 * as many trainable parameters, and alpha = 2·r as the page's LoRA default.
 */
export function bottleneckAsLora(m: Extract<MethodConfig, { peft_type: 'BOTTLENECK' }>, cfg: ModelConfig): { lora: LoraConfig; params: number; bottleneckParams: number } {
  const layer = architectureFor(cfg).layers[0];
  const targets = m.placement.map((p) => moduleName(p === 'self_attn' ? layer.o.module : layer.mlpOut.module));
  const lora = (r: number): LoraConfig => ({ peft_type: 'LORA', r, lora_alpha: 2 * r, lora_dropout: 0, target_modules: targets, use_rslora: false, layers_to_transform: null });
  const bottleneckParams = trainableParamCount(m, cfg);
  const r = Math.max(1, Math.round(bottleneckParams / trainableParamCount(lora(1), cfg)));
  return { lora: lora(r), params: trainableParamCount(lora(r), cfg), bottleneckParams };
}

const SCRIPT_NOTE = (what: string) =>
  `${what}: \`trl sft\`'s flags cannot express it, so it is in ${PEFT_CONFIG_FILE} and trains with ${PEFT_SCRIPT_FILE} ` +
  `(\`python ${PEFT_SCRIPT_FILE} --config sft.yaml\`); \`trl sft --config sft.yaml\` alone would train every weight instead.`;

/** How the method reaches TRL; `cfg` is the config.json of the model the run was planned on. */
export function methodFlags(method: MethodConfig, cfg: ModelConfig): MethodFlags {
  switch (method.peft_type) {
    case 'FULL':
      return { flags: {}, peftConfig: null, trained: method, notes: [] };
    case 'LORA':
      if (method.layers_to_transform) {
        return { flags: {}, peftConfig: loraPeftConfig(method, cfg), trained: method, notes: [SCRIPT_NOTE('LoRA on some layers only (layers_to_transform)')] };
      }
      return { flags: loraFlags(method), peftConfig: null, trained: method, notes: [] };
    case 'PREFIX_TUNING':
      return {
        flags: {},
        // PEFT fills in num_layers, token_dim and the heads from the model TRL loads.
        peftConfig: { peft_type: 'PREFIX_TUNING', task_type: 'CAUSAL_LM', num_virtual_tokens: method.num_virtual_tokens, prefix_projection: false },
        trained: method,
        notes: [SCRIPT_NOTE('Prefix tuning')],
      };
    case 'BOTTLENECK': {
      const { lora, params, bottleneckParams } = bottleneckAsLora(method, cfg);
      const targets = (lora.target_modules as string[]).join(' and ');
      return {
        flags: loraFlags(lora),
        peftConfig: null,
        trained: lora,
        notes: [
          `PEFT has no ${METHOD_LABELS.BOTTLENECK.toLowerCase()}, so TRL cannot train this run's method (${describeMethod(method)}). ` +
            `sft.yaml trains the closest PEFT method instead: LoRA r ${lora.r}, alpha ${lora.lora_alpha} on ${targets}, the projections ` +
            `whose outputs the bottleneck adapters follow: ${params.toLocaleString('en-US')} trainable parameters on the planned model against ` +
            `the bottleneck adapter's ${bottleneckParams.toLocaleString('en-US')}. It is a different adapter, so expect different results; ` +
            'it comes back to the page as LoRA.',
        ],
      };
    }
  }
}

// ─── schedule ────────────────────────────────────────────────────────────────────────────────────

/**
 * The learning-rate schedule as Transformers names it. `steps` is the run's length, which only the
 * linear decay to a floor needs (Transformers has it only as a warm-up–stable–decay schedule).
 */
export function scheduleFlags(c: TrainConfig, steps: number): { flags: YamlMap; notes: string[] } {
  const floor = c.min_lr_rate > 0;
  switch (c.lr_scheduler_type) {
    case 'constant':
      return { flags: { lr_scheduler_type: c.warmup_steps > 0 ? 'constant_with_warmup' : 'constant' }, notes: [] };
    case 'cosine':
      return floor
        ? { flags: { lr_scheduler_type: 'cosine_with_min_lr', lr_scheduler_kwargs: { min_lr_rate: c.min_lr_rate } }, notes: [] }
        : { flags: { lr_scheduler_type: 'cosine' }, notes: [] };
    case 'linear': {
      if (!floor) return { flags: { lr_scheduler_type: 'linear' }, notes: [] };
      const decay = Math.max(1, steps - Math.min(c.warmup_steps, steps));
      return {
        flags: {
          lr_scheduler_type: 'warmup_stable_decay',
          lr_scheduler_kwargs: { num_stable_steps: 0, num_decay_steps: decay, decay_type: 'linear', min_lr_ratio: c.min_lr_rate },
        },
        notes: [
          `The linear decay to ${c.min_lr_rate}·learning_rate is Transformers' warmup_stable_decay schedule (decay_type needs Transformers 4.50 or newer) ` +
            `decaying over the run's ${decay} steps after warm-up: a run of another length needs num_decay_steps changed to match.`,
        ],
      };
    }
  }
}

// ─── the SFT trainer ─────────────────────────────────────────────────────────────────────────────

export interface TrlConfig {
  /** the YAML's keys and values, in file order */
  values: YamlMap;
  /** comment lines above some keys (the sections of the file) */
  comments: Record<string, string[]>;
  header: string[];
  method: MethodFlags;
  notes: string[];
}

/** The run as `trl sft`'s configuration: sft.yaml. */
export function sftConfig(plan: TrainingPlan, baseModel: string): TrlConfig {
  const c = plan.config;
  const d = plan.data;
  const method = methodFlags(plan.method, plan.model.config);
  const schedule = scheduleFlags(c, plan.steps);
  const hasValidation = d.examples.validation.length > 0;
  const notes = [...method.notes, ...schedule.notes];
  if (c.max_steps <= 0) {
    notes.push(
      `The run trains ${c.num_train_epochs} epochs (num_train_epochs), ${plan.steps} steps here; TRL counts an epoch's steps from its own packing, batch and GPUs.`,
    );
  }
  if (c.early_stopping_patience > 0) {
    notes.push(
      `The run stops early after ${c.early_stopping_patience} evaluations without a lower validation loss; \`trl sft\` takes no callbacks, so this run trains every step: ` +
        `add transformers' EarlyStoppingCallback(early_stopping_patience=${c.early_stopping_patience}) with load_best_model_at_end in a script to do the same.`,
    );
  }
  const loss: YamlMap =
    d.format === 'messages'
      ? { assistant_only_loss: true }
      : d.format === 'prompt-completion' || d.format === 'alpaca'
        ? { completion_only_loss: true }
        : {};
  if (d.format === 'messages') {
    notes.push(
      "The loss counts the assistant turns (assistant_only_loss), which TRL finds through {% generation %} markers in the model's chat template; " +
        'with a template that has none, TRL stops with an error: set assistant_only_loss: false to train on whole conversations instead.',
    );
  }
  const values: YamlMap = {
    model_name_or_path: baseModel,
    dataset_name: `./${DATA_DIR}`,
    dataset_train_split: 'train',
    ...(hasValidation ? { dataset_test_split: VALIDATION_SPLIT } : {}),
    ...method.flags,
    learning_rate: c.learning_rate,
    ...schedule.flags,
    warmup_steps: c.warmup_steps,
    ...(c.max_steps > 0 ? { max_steps: c.max_steps } : { num_train_epochs: c.num_train_epochs }),
    per_device_train_batch_size: c.per_device_train_batch_size,
    per_device_eval_batch_size: c.per_device_train_batch_size,
    gradient_accumulation_steps: c.gradient_accumulation_steps,
    max_length: c.max_length,
    // The page packs plain text end to end and cuts it into rows, attention crossing examples:
    // TRL's "wrapped" packing. Everything else is one example per row.
    packing: d.packMode === 'concat',
    ...(d.packMode === 'concat' ? { packing_strategy: 'wrapped' } : {}),
    ...loss,
    optim: 'adamw_torch',
    weight_decay: c.weight_decay,
    adam_beta1: c.adam_beta1,
    adam_beta2: c.adam_beta2,
    adam_epsilon: c.adam_epsilon,
    max_grad_norm: c.max_grad_norm,
    eval_strategy: hasValidation ? 'steps' : 'no',
    ...(hasValidation ? { eval_steps: c.eval_steps } : {}),
    seed: c.seed,
    output_dir: OUTPUT_DIR,
  };
  const firstMethodKey = Object.keys(method.flags)[0];
  const comments: Record<string, string[]> = {
    model_name_or_path: ['The model TRL trains (a Hub id or a local folder).'],
    dataset_name: [
      `The examples the run used, in TRL's formats: ${TRAIN_FILE}${hasValidation ? ` and ${VALID_FILE} (the split "${VALIDATION_SPLIT}")` : ''}.`,
    ],
    ...(firstMethodKey ? { [firstMethodKey]: [`The method: ${describeMethod(method.trained)} (PEFT through TRL's ModelConfig).`] } : {}),
    learning_rate: ['Optimizer and schedule (AdamW).'],
    per_device_train_batch_size: ['Batch: per GPU; the effective batch is this × gradient_accumulation_steps × the number of GPUs.'],
    max_length: ['Sequence length and which tokens the loss counts.'],
    eval_strategy: ['Validation loss every eval_steps steps.'],
    seed: ['Seeds initialisation, dropout and the order of batches.'],
  };
  const run = method.peftConfig
    ? `python ${PEFT_SCRIPT_FILE} --config sft.yaml   (the method is in ${PEFT_CONFIG_FILE}: not \`trl sft\`, which would train every weight)`
    : 'trl sft --config sft.yaml';
  const header = [
    `TRL SFT configuration of a LoRA Playground run: ${describeMethod(plan.method)} on ${d.name}, planned on ${plan.model.id}.`,
    `Run from this folder: ${run}`,
    'Several GPUs: see README.md (Accelerate).',
    ...(plan.method.peft_type === 'BOTTLENECK' ? [`Not the run's method: LoRA stands in for the bottleneck adapter (README.md says why).`] : []),
  ];
  return { values, comments, header, method, notes };
}

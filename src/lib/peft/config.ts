// adapter_config.json: the one reader and the one writer, to and from the one method config
// (adapters/config.ts), with the field names and values PEFT uses — so an exported adapter loads with
// `PeftModel.from_pretrained(base, dir)` and a PEFT-trained adapter imports here.
//
// LORA           PEFT's LoraConfig fields (r, lora_alpha, lora_dropout, target_modules, use_rslora,
//                layers_to_transform, bias, fan_in_fan_out, ...). Features this app cannot run (DoRA,
//                bias training, modules_to_save, per-module ranks, excluded modules, trainable
//                tokens, LoRA variants, initialisations that changed the base weights) are refused
//                with the reason; fields that change nothing the weights compute are accepted.
// PREFIX_TUNING  PEFT's PrefixTuningConfig (num_virtual_tokens, num_layers, token_dim,
//                num_attention_heads, ...). For grouped-query attention PEFT stores the key/value
//                width: token_dim = NKV·HS and num_attention_heads = NKV. prefix_projection is refused.
// BOTTLENECK     Not a PEFT method: this app's own type, with the same file layout (documented in
//                tests/fixtures/README.md): bottleneck_size, non_linearity, placement
//                ("self_attn": after the attention block's output, "mlp": after the MLP's).
//                PEFT cannot load it; other tools can read the safetensors.
// A reward model (any of the three + the "score" head, adapters/score.ts) is what PEFT saves for
// task_type SEQ_CLS: modules_to_save ["score"] and the head's weight as base_model.model.score.weight
// (1, hidden) in adapter_model.safetensors, next to the adapter's own tensors. Reading one back needs
// SEQ_CLS and "score" in modules_to_save (PEFT also lists "classifier", the head's name in other
// architectures; it is accepted and has no weights here).

import {
  BOTTLENECK_NON_LINEARITIES,
  BOTTLENECK_PLACEMENTS,
  type BottleneckNonLinearity,
  type BottleneckPlacement,
  hasScoreHead,
  type MethodConfig,
  type SavedModules,
} from '../adapters/config.ts';
import { targetPatternProblem } from '../adapters/target-pattern.ts';
import type { ModelConfig } from '../model/config.ts';
import { showValue } from '../show.ts';

/** The methods that save as a PEFT adapter (full fine-tuning saves a model folder instead). */
export type AdapterMethod = Exclude<MethodConfig, { peft_type: 'FULL' }>;

/** What an adapter is for: the base model's name (base_model_name_or_path) and its config.json. */
export interface BaseModel {
  name: string;
  config: ModelConfig;
}

/** adapter_config.json, read. */
export interface AdapterConfigFile {
  method: AdapterMethod;
  /** base_model_name_or_path, when the file names one */
  baseModel: string | null;
  /** LoRA: the file says the base has Conv1D layers (GPT-2); the adapter shapes are the same either way */
  fanInFanOut: boolean;
  /** PREFIX_TUNING: the base shape the file was made for, checked against the model on import */
  prefixShape: { num_layers: number; token_dim: number; num_attention_heads: number } | null;
}

export class PeftError extends Error {
  /** Every problem found, each a full sentence. */
  readonly problems: string[];
  constructor(what: string, problems: string[]) {
    super(problems.length === 1 ? `${what}: ${problems[0]}` : `${what}:\n- ${problems.join('\n- ')}`);
    this.name = 'PeftError';
    this.problems = problems;
  }
}

type Json = Record<string, unknown>;

/**
 * adapter_config.json text as PEFT's save_pretrained writes it for `method` on `base`: keys sorted,
 * two-space indent, inference_mode true, the fields PEFT writes with their defaults.
 */
export function adapterConfigJson(method: AdapterMethod, base: BaseModel): string {
  const cfg = base.config;
  const head = hasScoreHead(method);
  const common = {
    task_type: head ? 'SEQ_CLS' : 'CAUSAL_LM',
    base_model_name_or_path: base.name,
    revision: null,
    inference_mode: true,
    ...(head ? { modules_to_save: ['score'] } : {}),
  };
  let fields: Json;
  switch (method.peft_type) {
    case 'LORA':
      fields = {
        r: method.r,
        lora_alpha: method.lora_alpha,
        lora_dropout: method.lora_dropout,
        target_modules: Array.isArray(method.target_modules) ? [...method.target_modules] : method.target_modules,
        use_rslora: method.use_rslora,
        layers_to_transform: method.layers_to_transform ? [...method.layers_to_transform] : null,
        bias: 'none',
        // GPT-2's Conv1D layers store weights (in,out); PEFT notes it, the adapter shapes are the same.
        fan_in_fan_out: cfg.family === 'gpt2',
        init_lora_weights: true,
        use_dora: false,
        modules_to_save: head ? ['score'] : null,
        layers_pattern: null,
        rank_pattern: {},
        alpha_pattern: {},
      };
      break;
    case 'PREFIX_TUNING':
      fields = {
        num_virtual_tokens: method.num_virtual_tokens,
        num_layers: cfg.layers,
        token_dim: cfg.kvHeads * cfg.headDim,
        num_attention_heads: cfg.kvHeads,
        num_transformer_submodules: 1,
        encoder_hidden_size: cfg.hidden,
        prefix_projection: false,
      };
      break;
    case 'BOTTLENECK':
      fields = { bottleneck_size: method.bottleneck_size, non_linearity: method.non_linearity, placement: [...method.placement] };
      break;
  }
  const all: Json = { ...common, ...fields, peft_type: method.peft_type };
  const sorted: Json = {};
  for (const k of Object.keys(all).sort()) sorted[k] = all[k];
  return JSON.stringify(sorted, null, 2);
}

/**
 * task_type and modules_to_save: a language model's adapter (CAUSAL_LM, nothing saved beside it) or a
 * reward model's (SEQ_CLS with the "score" head). Anything else is a problem, named.
 */
function savedModules(c: Json, problems: string[]): SavedModules {
  const task = c.task_type ?? 'CAUSAL_LM';
  const mts = c.modules_to_save;
  const list = mts == null ? [] : Array.isArray(mts) ? mts : null;
  if (list === null || !list.every((m) => m === 'score' || m === 'classifier')) {
    problems.push(`modules_to_save ${show(mts)} is not supported: only "score", the head of a reward model (task_type "SEQ_CLS"), can be saved beside the adapter`);
    return {};
  }
  if (task === 'CAUSAL_LM') {
    if (list.length > 0) problems.push(`modules_to_save ${show(mts)} with task_type "CAUSAL_LM": a language model's adapter saves no head; a reward model has task_type "SEQ_CLS"`);
    return {};
  }
  if (task === 'SEQ_CLS') {
    if (!list.includes('score')) problems.push(`task_type "SEQ_CLS" needs "score" in modules_to_save (the reward model's head), got ${show(mts)}`);
    return { modules_to_save: ['score'] };
  }
  problems.push(`task_type ${show(task)} is not supported: "CAUSAL_LM" (a language model's adapter) or "SEQ_CLS" (a reward model: the adapter and its score head)`);
  return {};
}

const isPosInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x > 0;
/** A value from the file, quoted in a message (shortened; safe for any nesting). */
const show = (x: unknown) => showValue(x);
/** Set to something: not null, and not an empty list, map or string. */
const isSet = (x: unknown) =>
  x != null && x !== false && x !== '' && !(Array.isArray(x) && x.length === 0) && !(typeof x === 'object' && !Array.isArray(x) && Object.keys(x as object).length === 0);

/** The module lists whose blocks layers_to_transform counts: model.layers (Llama family), transformer.h (GPT-2). */
const LAYER_LISTS = ['layers', 'h'];

/**
 * LoraConfig fields (as PEFT writes them) that make the adapter compute something other than
 * y = x·Wᵀ + scaling·(x·Aᵀ)·Bᵀ on the base model as it is, when set; each refused with why. Fields that
 * only steer how PEFT initialises or runs the adapter (eva_config, corda_config, loftq_config,
 * lora_ga_config, megatron_config, megatron_core, runtime_config, qalora_group_size, auto_mapping,
 * revision, inference_mode) change nothing the saved weights compute, and are accepted as they are.
 */
function loraVariantProblems(c: Json): string[] {
  const p: string[] = [];
  if (c.lora_bias === true) p.push('lora_bias is true: LoRA with a trained bias on lora_B is not supported');
  if (isSet(c.exclude_modules)) p.push(`exclude_modules ${show(c.exclude_modules)} is not supported: give the modules to adapt in target_modules alone`);
  if (isSet(c.trainable_token_indices)) {
    p.push(`trainable_token_indices ${show(c.trainable_token_indices)} is not supported: the adapter also trains rows of the token embeddings`);
  }
  if (isSet(c.target_parameters)) p.push(`target_parameters ${show(c.target_parameters)} is not supported: LoRA on parameters (not modules) cannot be loaded`);
  if (isSet(c.alora_invocation_tokens)) p.push('alora_invocation_tokens is set: activated LoRA (aLoRA), which acts only after its invocation tokens, is not supported');
  if (c.use_qalora === true) p.push('use_qalora is true: QA-LoRA (for quantized base weights) is not supported');
  for (const k of ['arrow_config', 'monteclora_config', 'kasa_config', 'use_bdlora'] as const) if (isSet(c[k])) p.push(`${k} is set: this LoRA variant is not supported`);
  const init = c.init_lora_weights;
  if (typeof init === 'string' && init !== 'gaussian' && init !== 'eva') {
    // PiSSA, OLoRA, CorDA, LoftQ, LoRA-GA and orthogonal initialisation change the base weights when
    // the adapter is created (PEFT subtracts the initial update from them, or quantizes them): the
    // adapter reproduces its training only on that changed base.
    const changesBase = ['pissa', 'olora', 'corda', 'loftq', 'lora_ga', 'orthogonal'].some((m) => init.toLowerCase().startsWith(m));
    p.push(
      changesBase
        ? `init_lora_weights ${show(init)} changed the base model's weights when the adapter was created, so the adapter only works on that changed base; ` +
            'PEFT converts it to a plain LoRA adapter when it saves with path_initial_model_for_weight_conversion'
        : `init_lora_weights ${show(init)} is not supported (a plain LoRA adapter has true, false, "gaussian" or "eva")`,
    );
  } else if (init !== undefined && init !== null && typeof init !== 'boolean' && typeof init !== 'string') {
    p.push(`init_lora_weights must be true, false or the name of an initialisation, got ${show(init)}`);
  }
  return p;
}

/**
 * Parses and validates adapter_config.json text (or an already-parsed object). Throws a PeftError
 * listing every problem. Fields this app does not use are ignored; fields that would change what
 * the adapter computes, and that the app cannot honour, are errors.
 */
export function parseAdapterConfig(input: string | Json): AdapterConfigFile {
  const what = 'adapter_config.json';
  let c: Json;
  if (typeof input === 'string') {
    try {
      c = JSON.parse(input);
    } catch (e) {
      throw new PeftError(what, [`not valid JSON (${(e as Error).message})`]);
    }
  } else c = input;
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new PeftError(what, ['must be a JSON object']);

  const problems: string[] = [];
  const type = c.peft_type;
  if (type !== 'LORA' && type !== 'PREFIX_TUNING' && type !== 'BOTTLENECK') {
    throw new PeftError(what, [
      type === undefined
        ? 'missing "peft_type" (expected "LORA", "PREFIX_TUNING" or "BOTTLENECK")'
        : `peft_type ${show(type)} is not supported (expected "LORA", "PREFIX_TUNING" or "BOTTLENECK")`,
    ]);
  }
  const saved = savedModules(c, problems);
  const base = c.base_model_name_or_path;
  if (base !== undefined && base !== null && typeof base !== 'string') problems.push(`base_model_name_or_path must be a string, got ${show(base)}`);
  const file = (m: AdapterMethod, extra: Partial<AdapterConfigFile> = {}): AdapterConfigFile => {
    if (problems.length) throw new PeftError(what, problems);
    const method = { ...m, ...saved } as AdapterMethod;
    return { method, baseModel: typeof base === 'string' ? base : null, fanInFanOut: false, prefixShape: null, ...extra };
  };

  if (type === 'LORA') {
    if (!isPosInt(c.r)) problems.push(`r must be a positive integer, got ${show(c.r)}`);
    const alpha = c.lora_alpha ?? 8; // PEFT's default
    if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha <= 0) problems.push(`lora_alpha must be a positive number, got ${show(alpha)}`);
    const dropout = c.lora_dropout ?? 0;
    if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) problems.push(`lora_dropout must be a number in [0, 1), got ${show(dropout)}`);
    const tm = c.target_modules;
    let targets: string[] | string = [];
    if (typeof tm === 'string' && tm !== '') targets = tm;
    else if (Array.isArray(tm) && tm.length > 0 && tm.every((t) => typeof t === 'string' && t !== '')) targets = tm as string[];
    else problems.push(`target_modules must be a non-empty list of module names or a regular expression, got ${show(tm)}`);
    // PEFT reads a string as a regular expression for re.fullmatch; it runs here in linear time.
    const patternProblem = typeof targets === 'string' && targets !== 'all-linear' ? targetPatternProblem(targets) : null;
    if (patternProblem) problems.push(`target_modules ${show(targets)} ${patternProblem}`);
    if (c.bias !== undefined && c.bias !== 'none') problems.push(`bias ${show(c.bias)} is not supported: only "none" (LoRA without trained biases)`);
    if (c.use_dora === true) problems.push('use_dora is true: DoRA adapters are not supported');
    for (const k of ['rank_pattern', 'alpha_pattern'] as const) {
      const v = c[k];
      if (v != null && (typeof v !== 'object' || Object.keys(v as object).length > 0)) problems.push(`${k} ${show(v)} is not supported: one r and lora_alpha for every module`);
    }
    if (c.layer_replication != null) problems.push('layer_replication is not supported');
    problems.push(...loraVariantProblems(c));
    let layers: number[] | null = null;
    const ltt = c.layers_to_transform;
    if (typeof ltt === 'number' && Number.isInteger(ltt) && ltt >= 0) layers = [ltt];
    else if (Array.isArray(ltt) && ltt.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0)) layers = ltt as number[];
    else if (ltt != null) problems.push(`layers_to_transform must be a layer index or a list of them, got ${show(ltt)}`);
    const pattern = c.layers_pattern;
    const patterns = pattern == null ? [] : Array.isArray(pattern) ? pattern : [pattern];
    if (layers && patterns.length > 0 && !patterns.every((p) => typeof p === 'string' && LAYER_LISTS.includes(p))) {
      problems.push(
        `layers_pattern ${show(pattern)} is not supported: layers_to_transform counts the blocks of ${LAYER_LISTS.map((l) => `"${l}"`).join(' or ')} ` +
          '(the layer lists of the Llama family and GPT-2)',
      );
    }
    if (c.use_rslora !== undefined && typeof c.use_rslora !== 'boolean') problems.push(`use_rslora must be true or false, got ${show(c.use_rslora)}`);
    return file(
      {
        peft_type: 'LORA',
        r: c.r as number,
        lora_alpha: alpha as number,
        lora_dropout: dropout as number,
        target_modules: targets,
        use_rslora: c.use_rslora === true,
        layers_to_transform: layers,
      },
      { fanInFanOut: c.fan_in_fan_out === true },
    );
  }

  if (type === 'PREFIX_TUNING') {
    for (const k of ['num_virtual_tokens', 'num_layers', 'token_dim', 'num_attention_heads'] as const) {
      if (!isPosInt(c[k])) problems.push(`${k} must be a positive integer, got ${show(c[k])}`);
    }
    if (isPosInt(c.token_dim) && isPosInt(c.num_attention_heads) && c.token_dim % c.num_attention_heads !== 0) {
      problems.push(`token_dim ${c.token_dim} is not a multiple of num_attention_heads ${c.num_attention_heads}`);
    }
    if (c.prefix_projection === true) problems.push('prefix_projection is true: prefixes produced by an MLP encoder are not supported');
    const subs = c.num_transformer_submodules ?? 1;
    if (subs !== 1) problems.push(`num_transformer_submodules ${show(subs)} is not supported: a decoder-only model has 1`);
    return file(
      { peft_type: 'PREFIX_TUNING', num_virtual_tokens: c.num_virtual_tokens as number },
      { prefixShape: { num_layers: c.num_layers as number, token_dim: c.token_dim as number, num_attention_heads: c.num_attention_heads as number } },
    );
  }

  // BOTTLENECK
  if (!isPosInt(c.bottleneck_size)) problems.push(`bottleneck_size must be a positive integer, got ${show(c.bottleneck_size)}`);
  const act = c.non_linearity ?? 'relu';
  if (!BOTTLENECK_NON_LINEARITIES.includes(act as BottleneckNonLinearity)) {
    problems.push(`non_linearity ${show(act)} is not supported (expected ${BOTTLENECK_NON_LINEARITIES.join(', ')})`);
  }
  const pl = c.placement;
  if (!Array.isArray(pl) || pl.length === 0 || !pl.every((p) => BOTTLENECK_PLACEMENTS.includes(p as BottleneckPlacement))) {
    problems.push(`placement must be a non-empty list of ${BOTTLENECK_PLACEMENTS.map((p) => `"${p}"`).join(' and ')}, got ${show(pl)}`);
  } else if (new Set(pl).size !== pl.length) problems.push(`placement ${show(pl)} names a place twice`);
  return file({
    peft_type: 'BOTTLENECK',
    bottleneck_size: c.bottleneck_size as number,
    non_linearity: act as BottleneckNonLinearity,
    placement: pl as BottleneckPlacement[],
  });
}

// adapter_config.json: read, validate, write — with the field names and values PEFT uses, so an
// exported adapter loads with `PeftModel.from_pretrained(base, dir)` and a PEFT-trained adapter
// imports here.
//
// LORA           PEFT's LoraConfig fields (r, lora_alpha, lora_dropout, target_modules, use_rslora,
//                bias, fan_in_fan_out, ...). Features this app cannot run (DoRA, bias training,
//                modules_to_save, per-module ranks) are refused with the reason.
// PREFIX_TUNING  PEFT's PrefixTuningConfig (num_virtual_tokens, num_layers, token_dim,
//                num_attention_heads, ...). For grouped-query attention PEFT stores the key/value
//                width: token_dim = NKV·HS and num_attention_heads = NKV. prefix_projection is refused.
// BOTTLENECK     Not a PEFT method: this app's own type, with the same file layout (documented in
//                tests/fixtures/README.md): bottleneck_size, non_linearity, placement
//                ("self_attn": after the attention block's output, "mlp": after the MLP's).
//                PEFT cannot load it; other tools can read the safetensors.

export type PeftType = 'LORA' | 'PREFIX_TUNING' | 'BOTTLENECK';

interface Common {
  task_type: 'CAUSAL_LM';
  base_model_name_or_path: string | null;
  revision: string | null;
  inference_mode: boolean;
}

export interface LoraPeftConfig extends Common {
  peft_type: 'LORA';
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  /** module names (matched as a path suffix) or one regular expression matched against the whole path */
  target_modules: string[] | string;
  use_rslora: boolean;
  bias: 'none';
  /** true for GPT-2's Conv1D layers (weights stored (in,out)); the adapter shapes are the same */
  fan_in_fan_out: boolean;
  init_lora_weights: boolean;
  use_dora: false;
  modules_to_save: null;
  /** only these layers get adapters (PEFT's layers_to_transform), or all */
  layers_to_transform: number[] | null;
  layers_pattern: null;
  rank_pattern: Record<string, never>;
  alpha_pattern: Record<string, never>;
}

export interface PrefixPeftConfig extends Common {
  peft_type: 'PREFIX_TUNING';
  num_virtual_tokens: number;
  num_layers: number;
  /** width of one layer's key (or value): NKV·HS */
  token_dim: number;
  /** key/value heads: NKV */
  num_attention_heads: number;
  num_transformer_submodules: 1;
  encoder_hidden_size: number;
  prefix_projection: false;
}

export type BottleneckPlacement = 'self_attn' | 'mlp';
export type BottleneckNonLinearity = 'relu' | 'silu' | 'gelu' | 'gelu_tanh';

export interface BottleneckPeftConfig extends Common {
  peft_type: 'BOTTLENECK';
  bottleneck_size: number;
  non_linearity: BottleneckNonLinearity;
  placement: BottleneckPlacement[];
}

export type PeftConfig = LoraPeftConfig | PrefixPeftConfig | BottleneckPeftConfig;

export class PeftError extends Error {
  /** Every problem found, each a full sentence. */
  readonly problems: string[];
  constructor(what: string, problems: string[]) {
    super(problems.length === 1 ? `${what}: ${problems[0]}` : `${what}:\n- ${problems.join('\n- ')}`);
    this.name = 'PeftError';
    this.problems = problems;
  }
}

const NON_LINEARITIES: readonly BottleneckNonLinearity[] = ['relu', 'silu', 'gelu', 'gelu_tanh'];
const PLACEMENTS: readonly BottleneckPlacement[] = ['self_attn', 'mlp'];

/** A LoRA config as PEFT would write it for these settings. */
export function loraConfig(opts: {
  r: number;
  alpha: number;
  dropout?: number;
  targetModules: string[] | string;
  useRslora?: boolean;
  baseModel: string | null;
  fanInFanOut?: boolean;
  layersToTransform?: number[] | null;
}): LoraPeftConfig {
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: opts.baseModel,
    revision: null,
    inference_mode: true,
    r: opts.r,
    lora_alpha: opts.alpha,
    lora_dropout: opts.dropout ?? 0,
    target_modules: Array.isArray(opts.targetModules) ? [...opts.targetModules] : opts.targetModules,
    use_rslora: opts.useRslora ?? false,
    bias: 'none',
    fan_in_fan_out: opts.fanInFanOut ?? false,
    init_lora_weights: true,
    use_dora: false,
    modules_to_save: null,
    layers_to_transform: opts.layersToTransform ?? null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
  };
}

/** A prefix-tuning config for a base with L layers, NKV key/value heads of HS, hidden size C. */
export function prefixConfig(opts: {
  numVirtualTokens: number;
  layers: number;
  kvHeads: number;
  headDim: number;
  hidden: number;
  baseModel: string | null;
}): PrefixPeftConfig {
  return {
    peft_type: 'PREFIX_TUNING',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: opts.baseModel,
    revision: null,
    inference_mode: true,
    num_virtual_tokens: opts.numVirtualTokens,
    num_layers: opts.layers,
    token_dim: opts.kvHeads * opts.headDim,
    num_attention_heads: opts.kvHeads,
    num_transformer_submodules: 1,
    encoder_hidden_size: opts.hidden,
    prefix_projection: false,
  };
}

export function bottleneckConfig(opts: {
  size: number;
  nonLinearity: BottleneckNonLinearity;
  placement: BottleneckPlacement[];
  baseModel: string | null;
}): BottleneckPeftConfig {
  return {
    peft_type: 'BOTTLENECK',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: opts.baseModel,
    revision: null,
    inference_mode: true,
    bottleneck_size: opts.size,
    non_linearity: opts.nonLinearity,
    placement: [...opts.placement],
  };
}

/**
 * adapter_config.json text as PEFT's save_pretrained writes it: keys sorted, two-space indent.
 * inference_mode is written true, as PEFT does when saving.
 */
export function serializePeftConfig(cfg: PeftConfig): string {
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(cfg).sort()) sorted[k] = (cfg as unknown as Record<string, unknown>)[k];
  sorted.inference_mode = true;
  return JSON.stringify(sorted, null, 2);
}

type Json = Record<string, unknown>;

const isPosInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x > 0;
const show = (x: unknown) => JSON.stringify(x) ?? String(x);

/**
 * Parses and validates adapter_config.json text (or an already-parsed object). Throws a PeftError
 * listing every problem. Fields this app does not use are ignored; fields that would change what
 * the adapter computes, and that the app cannot honour, are errors.
 */
export function parsePeftConfig(input: string | Json): PeftConfig {
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
  if (c.task_type !== undefined && c.task_type !== null && c.task_type !== 'CAUSAL_LM') {
    problems.push(`task_type ${show(c.task_type)} is not supported: only "CAUSAL_LM" adapters apply to a language model`);
  }
  const base = c.base_model_name_or_path;
  if (base !== undefined && base !== null && typeof base !== 'string') problems.push(`base_model_name_or_path must be a string, got ${show(base)}`);
  const common: Common = {
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: typeof base === 'string' ? base : null,
    revision: typeof c.revision === 'string' ? c.revision : null,
    inference_mode: c.inference_mode !== false,
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
    if (typeof targets === 'string' && targets !== 'all-linear') {
      try {
        new RegExp(targets);
      } catch {
        problems.push(`target_modules ${show(targets)} is not a valid regular expression`);
      }
    }
    if (c.bias !== undefined && c.bias !== 'none') problems.push(`bias ${show(c.bias)} is not supported: only "none" (LoRA without trained biases)`);
    if (c.use_dora === true) problems.push('use_dora is true: DoRA adapters are not supported');
    if (c.modules_to_save != null && !(Array.isArray(c.modules_to_save) && c.modules_to_save.length === 0)) {
      problems.push(`modules_to_save ${show(c.modules_to_save)} is not supported: only adapter weights can be loaded`);
    }
    for (const k of ['rank_pattern', 'alpha_pattern'] as const) {
      const v = c[k];
      if (v != null && (typeof v !== 'object' || Object.keys(v as object).length > 0)) problems.push(`${k} ${show(v)} is not supported: one r and lora_alpha for every module`);
    }
    if (c.layer_replication != null) problems.push('layer_replication is not supported');
    let layers: number[] | null = null;
    const ltt = c.layers_to_transform;
    if (typeof ltt === 'number' && Number.isInteger(ltt) && ltt >= 0) layers = [ltt];
    else if (Array.isArray(ltt) && ltt.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0)) layers = ltt as number[];
    else if (ltt != null) problems.push(`layers_to_transform must be a layer index or a list of them, got ${show(ltt)}`);
    if (c.use_rslora !== undefined && typeof c.use_rslora !== 'boolean') problems.push(`use_rslora must be true or false, got ${show(c.use_rslora)}`);
    if (problems.length) throw new PeftError(what, problems);
    return {
      ...loraConfig({
        r: c.r as number,
        alpha: alpha as number,
        dropout: dropout as number,
        targetModules: targets,
        useRslora: c.use_rslora === true,
        baseModel: common.base_model_name_or_path,
        fanInFanOut: c.fan_in_fan_out === true,
        layersToTransform: layers,
      }),
      ...common,
      init_lora_weights: c.init_lora_weights !== false,
    };
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
    if (problems.length) throw new PeftError(what, problems);
    return {
      ...common,
      peft_type: 'PREFIX_TUNING',
      num_virtual_tokens: c.num_virtual_tokens as number,
      num_layers: c.num_layers as number,
      token_dim: c.token_dim as number,
      num_attention_heads: c.num_attention_heads as number,
      num_transformer_submodules: 1,
      encoder_hidden_size: isPosInt(c.encoder_hidden_size) ? c.encoder_hidden_size : (c.token_dim as number),
      prefix_projection: false,
    };
  }

  // BOTTLENECK
  if (!isPosInt(c.bottleneck_size)) problems.push(`bottleneck_size must be a positive integer, got ${show(c.bottleneck_size)}`);
  const act = c.non_linearity ?? 'relu';
  if (!NON_LINEARITIES.includes(act as BottleneckNonLinearity)) {
    problems.push(`non_linearity ${show(act)} is not supported (expected ${NON_LINEARITIES.join(', ')})`);
  }
  const pl = c.placement;
  if (!Array.isArray(pl) || pl.length === 0 || !pl.every((p) => PLACEMENTS.includes(p as BottleneckPlacement))) {
    problems.push(`placement must be a non-empty list of ${PLACEMENTS.map((p) => `"${p}"`).join(' and ')}, got ${show(pl)}`);
  } else if (new Set(pl).size !== pl.length) problems.push(`placement ${show(pl)} names a place twice`);
  if (problems.length) throw new PeftError(what, problems);
  return {
    ...common,
    peft_type: 'BOTTLENECK',
    bottleneck_size: c.bottleneck_size as number,
    non_linearity: act as BottleneckNonLinearity,
    placement: pl as BottleneckPlacement[],
  };
}

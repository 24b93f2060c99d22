// The trainable methods and their settings, named as PEFT names them (so an adapter_config.json
// maps onto these one to one; see fromPeftConfig).

export interface LoraConfig {
  method: 'lora';
  /** rank of the update B·A */
  r: number;
  /** the update is scaled by alpha/r (alpha/√r with useRslora) */
  alpha: number;
  /** dropout on the LoRA branch's input, training only (PEFT's lora_dropout) */
  dropout: number;
  /**
   * Which projections get a LoRA branch: module names matched as PEFT does (a module matches if its
   * path equals a name or ends with '.' + name), or one regular expression that must match the whole
   * path, or 'all-linear' (every projection except lm_head).
   */
  targetModules: string[] | string;
  /** rank-stabilised LoRA: scaling alpha/√r */
  useRslora: boolean;
}

export interface BottleneckConfig {
  method: 'bottleneck';
  /** width of the bottleneck (rows of down) */
  size: number;
  nonlinearity: 'relu' | 'silu' | 'gelu' | 'gelu_tanh';
  /** after the attention sublayer's output projection */
  afterAttention: boolean;
  /** after the MLP's output projection */
  afterMlp: boolean;
}

export interface PrefixConfig {
  method: 'prefix';
  /** P: virtual tokens whose keys/values every layer prepends */
  numVirtualTokens: number;
}

export interface FullConfig {
  method: 'full';
}

export type AdapterConfig = LoraConfig | BottleneckConfig | PrefixConfig | FullConfig;

export const DEFAULT_LORA: LoraConfig = {
  method: 'lora',
  r: 8,
  alpha: 16,
  dropout: 0,
  targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'c_attn', 'c_proj', 'c_fc'],
  useRslora: false,
};

export const DEFAULT_BOTTLENECK: BottleneckConfig = {
  method: 'bottleneck',
  size: 16,
  nonlinearity: 'relu',
  afterAttention: true,
  afterMlp: true,
};

export const DEFAULT_PREFIX: PrefixConfig = { method: 'prefix', numVirtualTokens: 8 };

type Json = Record<string, unknown>;

/**
 * Reads a PEFT adapter_config.json (LORA, PREFIX_TUNING) or the bottleneck adapter's json
 * (tests/fixtures/README.md) into an AdapterConfig.
 */
export function fromPeftConfig(json: Json | string): AdapterConfig {
  const c: Json = typeof json === 'string' ? JSON.parse(json) : json;
  const type = String(c.peft_type ?? c.method ?? '').toUpperCase();
  if (type === 'LORA') {
    const tm = c.target_modules;
    return {
      method: 'lora',
      r: Number(c.r ?? 8),
      alpha: Number(c.lora_alpha ?? 8),
      dropout: Number(c.lora_dropout ?? 0),
      targetModules: Array.isArray(tm) ? tm.map(String) : typeof tm === 'string' ? tm : DEFAULT_LORA.targetModules,
      useRslora: c.use_rslora === true,
    };
  }
  if (type === 'PREFIX_TUNING') {
    if (c.prefix_projection === true) throw new Error('prefix tuning with prefix_projection is not supported');
    return { method: 'prefix', numVirtualTokens: Number(c.num_virtual_tokens) };
  }
  if (type === 'BOTTLENECK' || type === 'ADAPTER' || 'adapter_size' in c || 'bottleneck_size' in c) {
    const where = c.placement ?? c.location ?? c.adapter_placement;
    const places = Array.isArray(where) ? where.map(String) : typeof where === 'string' ? [where] : ['attn', 'mlp'];
    const has = (k: string) => places.some((p) => p.includes(k) || p === 'both');
    return {
      method: 'bottleneck',
      size: Number(c.adapter_size ?? c.bottleneck_size ?? c.size),
      nonlinearity: String(c.non_linearity ?? c.nonlinearity ?? c.act ?? 'relu') as BottleneckConfig['nonlinearity'],
      afterAttention: has('attn'),
      afterMlp: has('mlp'),
    };
  }
  throw new Error(`adapter config: unsupported peft_type "${type}"`);
}

/** PEFT's scaling of the LoRA update. */
export function loraScaling(c: LoraConfig): number {
  return c.useRslora ? c.alpha / Math.sqrt(c.r) : c.alpha / c.r;
}

/**
 * PEFT's check_target_module_exists: a string target is a regular expression matched against the
 * whole module path; a list matches a module whose path equals an entry or ends with '.' + entry.
 */
export function isTargetModule(targets: string[] | string, module: string): boolean {
  if (typeof targets === 'string') {
    if (targets === 'all-linear') return true;
    return new RegExp(`^(?:${targets})$`).test(module);
  }
  return targets.some((t) => module === t || module.endsWith(`.${t}`));
}

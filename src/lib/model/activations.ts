// Activation tensors for one (B,T) shape. Training keeps every layer's activations for the backward
// pass (llm.c's ActivationTensors); inference reuses one set for all layers and ping-pongs the
// residual stream between two buffers. Each tensor gets a GPUBuffer of its own: WebGPU forbids one
// buffer being read and written by the same dispatch, and every op here reads one activation to
// write the next.
//
// What is allocated is decided once, by a pure function of plain data (activationTensors): the
// constructor creates exactly that list, and activationBytes() sums the same list, so a memory
// estimate made before any GPU exists (the training plan) cannot drift from the allocator.
import type { Gpu } from '../gpu/device.ts';
import { createTensor, tensorBufferBytes, type DType, type Tensor } from '../gpu/tensor.ts';
import type { ModelConfig } from './config.ts';
import type { LayerBinding, LinearBinding, ModelBinding } from './bindings.ts';
import { STATS_SIZE as PREFERENCE_STATS_SIZE } from '../ops/preference/reference.ts';

export interface LayerActs {
  /** residual stream into the layer (B,T,C) */
  inp: Tensor;
  n1: Tensor; // (B,T,C) first norm's output
  mean1: Tensor | null; // (B,T) LayerNorm only
  rstd1: Tensor; // (B,T)
  qlin: Tensor | null; // (B,T,NH,HS) before RoPE (rotary models; shared by all layers)
  klin: Tensor | null; // (B,T,NKV,HS) before RoPE (shared)
  /** Qwen3: the q/k projections' outputs before the per-head norm, and the norm's rstd per head */
  qk: { qpre: Tensor; kpre: Tensor; rstdq: Tensor; rstdk: Tensor } | null;
  q: Tensor; // (B,T,NH,HS) as attention reads it
  k: Tensor; // (B,T,NKV,HS)
  v: Tensor; // (B,T,NKV,HS)
  att: Tensor; // (B,T,NH,HS) attention output
  lse: Tensor; // (B,NH,T) attention's log-sum-exp per query row
  ao: Tensor; // (B,T,C) attention output projection
  bnAttn: { h: Tensor; a: Tensor } | null; // (B,T,size) bottleneck pre/post activation
  mid: Tensor; // (B,T,C) residual after attention
  n2: Tensor;
  mean2: Tensor | null;
  rstd2: Tensor;
  fc: Tensor[]; // (B,T,I) Llama: gate, up; GPT-2: c_fc output
  hmid: Tensor; // (B,T,I) MLP hidden after the nonlinearity
  mo: Tensor; // (B,T,C) MLP output projection
  bnMlp: { h: Tensor; a: Tensor } | null;
  /** residual stream out of the layer (B,T,C) */
  out: Tensor;
  /** LoRA branch activations per projection: u = x·Aᵀ (B·T, r) */
  lora: Map<LinearBinding, Tensor>;
}

/** Gradient scratch for the backward pass, shared by all layers (they run one after another). */
export interface GradActs {
  dres: Tensor; // (B,T,C) gradient of the residual stream
  dn: Tensor; // (B,T,C) gradient of a norm's output
  dy: Tensor; // (B,T,C) gradient of a sublayer output before its bottleneck adapter
  datt: Tensor; // (B,T,NH,HS)
  dq: Tensor; // (B,T,NH,HS)
  dk: Tensor; // (B,T,NKV,HS)
  dv: Tensor; // (B,T,NKV,HS)
  dqlin: Tensor | null;
  dklin: Tensor | null;
  dfc: Tensor[]; // (B,T,I)
  dhmid: Tensor; // (B,T,I)
  du: Tensor | null; // (B·T, r) LoRA branch
  dbn: { dh: Tensor; da: Tensor } | null; // (B,T,size)
  dlosses: Tensor; // (B,T)
  zeros: Tensor; // (B,T) stays 0 (to count the targets, see transformer.ts)
}

/** The tensors of LayerActs that every layer has, under these names (labels `L<l>.<name>`). */
const LAYER_TENSORS = ['n1', 'rstd1', 'q', 'k', 'v', 'att', 'lse', 'ao', 'mid', 'n2', 'rstd2', 'hmid', 'mo'] as const;
/** The tensors of GradActs that training always has. */
const GRAD_TENSORS = ['dres', 'dn', 'dy', 'datt', 'dq', 'dk', 'dv', 'dhmid', 'dlosses', 'zeros'] as const;

/** Target size of the logits buffer (rows × V × 4 bytes). */
export const HEAD_BYTES = 64 * 1024 * 1024;

/** What an attached method adds to the activations, as plain data (no tensors). */
export interface ActivationShape {
  /** one entry per layer */
  layers: {
    /** projections with a LoRA branch: their LinearDef's module and block, and the rank r */
    lora: { module: string; block: number; r: number }[];
    /** width of the bottleneck adapter after the attention sublayer and after the MLP (0: none) */
    bottleneck: { attn: number; mlp: number };
  }[];
}

/** One tensor the activations allocate. Labels are unique: the constructor finds tensors by label. */
export interface ActivationTensor {
  label: string;
  shape: number[];
  dtype: DType;
}

const projections = (lb: LayerBinding): LinearBinding[] => [lb.q, lb.k, lb.v, lb.o, ...lb.mlpIn, lb.mlpOut];

/** The ActivationShape of a bound model (its LoRA branches and bottleneck adapters). */
export function activationShapeOfBinding(binding: ModelBinding): ActivationShape {
  return {
    layers: binding.layers.map((lb) => ({
      lora: projections(lb).flatMap((b) => (b.lora ? [{ module: b.def.module, block: b.def.block, r: b.lora.r }] : [])),
      bottleneck: { attn: lb.attnAdapter?.size ?? 0, mlp: lb.mlpAdapter?.size ?? 0 },
    })),
  };
}

const loraLabel = (l: number, module: string, block: number) => `L${l}.lora.${module}[${block}]`;

/** Rows of logits computed at a time: all B·T, or a multiple of 64 keeping (rows,V) near headBytes. */
function headRowsFor(cfg: ModelConfig, B: number, T: number, headBytes: number): number {
  const fit = Math.max(64, Math.floor(headBytes / (cfg.vocabSize * 4) / 64) * 64);
  return B * T <= fit ? B * T : fit;
}

/**
 * Every tensor Activations allocates for (B,T), in allocation order. Layer tensors are labelled
 * `L<l>.<name>`; inference allocates one set (`L0.`) that every layer reuses, but a LoRA branch
 * activation per projection of every layer.
 */
export function activationTensors(
  cfg: ModelConfig,
  shape: ActivationShape,
  B: number,
  T: number,
  training: boolean,
  headBytes = HEAD_BYTES,
): ActivationTensor[] {
  const { hidden: C, heads: NH, kvHeads: NKV, headDim: HS, intermediate: I, vocabSize: V } = cfg;
  const list: ActivationTensor[] = [];
  const t = (label: string, dims: number[], dtype: DType = 'f32') => list.push({ label, shape: dims, dtype });
  const ln = cfg.norm === 'layernorm';
  const rope = cfg.positions === 'rope';
  const mlpIn = cfg.mlp === 'swiglu' ? 2 : 1;
  const layers = shape.layers;
  const maxR = Math.max(0, ...layers.flatMap((l) => l.lora.map((x) => x.r)));
  const maxBn = (which: 'attn' | 'mlp') => Math.max(0, ...layers.map((l) => l.bottleneck[which]));
  const S = Math.max(maxBn('attn'), maxBn('mlp'));

  // RoPE's inputs are not needed by the backward (it rotates the gradient back): one pair serves all layers.
  if (rope) {
    t('qlin', [B, T, NH, HS]);
    t('klin', [B, T, NKV, HS]);
  }
  const nRes = training ? cfg.layers + 1 : 2;
  for (let i = 0; i < nRes; i++) t(`res${i}`, [B, T, C]);
  const layer = (l: number, bn: { attn: number; mlp: number }) => {
    const p = `L${l}.`;
    for (const x of training ? layers[l].lora : []) t(loraLabel(l, x.module, x.block), [B * T, x.r]);
    t(`${p}n1`, [B, T, C]);
    if (ln) t(`${p}mean1`, [B, T]);
    t(`${p}rstd1`, [B, T]);
    if (cfg.qkNorm) {
      // the norm's backward reads its input and rstd: kept per layer in training
      t(`${p}qpre`, [B, T, NH, HS]);
      t(`${p}kpre`, [B, T, NKV, HS]);
      t(`${p}rstdq`, [B, T, NH]);
      t(`${p}rstdk`, [B, T, NKV]);
    }
    t(`${p}q`, [B, T, NH, HS]);
    t(`${p}k`, [B, T, NKV, HS]);
    t(`${p}v`, [B, T, NKV, HS]);
    t(`${p}att`, [B, T, NH, HS]);
    t(`${p}lse`, [B, NH, T]);
    t(`${p}ao`, [B, T, C]);
    if (bn.attn) for (const x of ['h', 'a']) t(`${p}bnAttn.${x}`, [B, T, bn.attn]);
    t(`${p}mid`, [B, T, C]);
    t(`${p}n2`, [B, T, C]);
    if (ln) t(`${p}mean2`, [B, T]);
    t(`${p}rstd2`, [B, T]);
    for (let i = 0; i < mlpIn; i++) t(`${p}fc${i}`, [B, T, I]);
    t(`${p}hmid`, [B, T, I]);
    t(`${p}mo`, [B, T, C]);
    if (bn.mlp) for (const x of ['h', 'a']) t(`${p}bnMlp.${x}`, [B, T, bn.mlp]);
  };
  if (training) {
    layers.forEach((l, i) => layer(i, l.bottleneck));
  } else {
    // One set for every layer, with room for the widest adapter; a LoRA branch activation per projection.
    layer(0, { attn: maxBn('attn'), mlp: maxBn('mlp') });
    layers.forEach((l, i) => l.lora.forEach((x) => t(loraLabel(i, x.module, x.block), [B * T, x.r])));
  }
  t('nf', [B, T, C]);
  if (ln) t('meanf', [B, T]);
  t('rstdf', [B, T]);
  // The classifier runs over row chunks so (rows,V) stays near headBytes even for big vocabularies.
  const headRows = headRowsFor(cfg, B, T, headBytes);
  t('logits', [headRows, V]);
  t('xc', [headRows, C]);
  if (training) t('dxc', [headRows, C]);
  t('losses', [B, T]);
  t('loss.lse', [B, T]);
  t('loss', [2]);
  t('count', [2]);
  // Sequence-level objectives (train/preference.ts): each row's summed loss and count, the preference
  // loss's stats and per-row gradient, and (training) the gradient of the row sums.
  t('rows.loss', [B]);
  t('rows.count', [B]);
  t('pref.stats', [PREFERENCE_STATS_SIZE]);
  t('pref.grad', [B]);
  if (training) t('rows.dloss', [B]);
  if (training) {
    for (const name of ['dres', 'dn', 'dy']) t(name, [B, T, C]);
    t('datt', [B, T, NH, HS]);
    t('dq', [B, T, NH, HS]);
    t('dk', [B, T, NKV, HS]);
    t('dv', [B, T, NKV, HS]);
    if (rope) {
      t('dqlin', [B, T, NH, HS]);
      t('dklin', [B, T, NKV, HS]);
    }
    for (let i = 0; i < mlpIn; i++) t(`dfc${i}`, [B, T, I]);
    t('dhmid', [B, T, I]);
    if (maxR) t('du', [B * T, maxR]);
    if (S) for (const x of ['h', 'a']) t(`dbn.${x}`, [B, T, S]);
    t('dlosses', [B, T]);
    t('zeros', [B, T]);
  }
  return list;
}

/** GPU bytes new Activations(...) allocates for this shape: its buffers, sized as createTensor sizes them. */
export function activationBytes(
  cfg: ModelConfig,
  shape: ActivationShape,
  B: number,
  T: number,
  training: boolean,
  headBytes = HEAD_BYTES,
): number {
  return activationTensors(cfg, shape, B, T, training, headBytes).reduce((n, x) => n + tensorBufferBytes(x.shape), 0);
}

export class Activations {
  readonly layers: LayerActs[];
  readonly nf: Tensor; // (B,T,C) final norm output
  readonly meanf: Tensor | null;
  readonly rstdf: Tensor;
  readonly final: Tensor; // (B,T,C) residual stream after the last layer
  /** rows of logits computed at a time: all B·T, or a multiple of 64 keeping (rows,V) small */
  readonly headRows: number;
  readonly logits: Tensor; // (headRows,V) logits, turned into dlogits in place by the backward
  readonly xc: Tensor; // (headRows,C) the final-norm rows whose loss counts, gathered
  readonly dxc: Tensor | null; // (headRows,C) their gradient, scattered back into grads.dn
  readonly losses: Tensor; // (B,T)
  readonly lossLse: Tensor; // (B,T) cross-entropy's log-sum-exp
  readonly loss: Tensor; // (2) mean loss, count
  readonly count: Tensor; // (2) 0, count (dlosses' denominator)
  readonly rowLoss: Tensor; // (B) Σ of each row's per-token losses
  readonly rowCount: Tensor; // (B) each row's counted tokens
  readonly prefStats: Tensor; // (10) the preference loss and its metrics (ops/preference STATS)
  readonly prefGrad: Tensor; // (B) ∂(pair loss)/∂rowLoss, kept by the preference forward
  readonly drowLoss: Tensor | null; // (B) gradient of the objective w.r.t. rowLoss (training)
  readonly grads: GradActs | null;
  /** GPU bytes allocated: equals activationBytes() of the same arguments */
  readonly bytes: number;
  private readonly owned: Tensor[] = [];

  constructor(
    gpu: Gpu,
    readonly cfg: ModelConfig,
    binding: ModelBinding,
    readonly B: number,
    readonly T: number,
    readonly training: boolean,
    /** target size of the (rows,V) logits buffer; the classifier runs over row chunks that fit it */
    headBytes = HEAD_BYTES,
  ) {
    const byLabel = new Map<string, Tensor>();
    let bytes = 0;
    for (const s of activationTensors(cfg, activationShapeOfBinding(binding), B, T, training, headBytes)) {
      const x = createTensor(gpu, s.shape, s.dtype, s.label);
      byLabel.set(s.label, x);
      this.owned.push(x);
      bytes += x.buffer.size;
    }
    this.bytes = bytes;
    /** the tensor labelled so, or null where activationTensors() allocated none */
    const opt = (label: string): Tensor | null => byLabel.get(label) ?? null;
    const req = (label: string): Tensor => {
      const x = byLabel.get(label);
      if (!x) throw new Error(`Activations: no tensor "${label}"`);
      return x;
    };
    const pair = (h: string, a: string) => {
      const x = opt(h);
      return x ? { h: x, a: req(a) } : null;
    };
    /** the required tensors `names`, labelled prefix + name, by name */
    const pick = <K extends string>(names: readonly K[], prefix = '') =>
      Object.fromEntries(names.map((n) => [n, req(prefix + n)])) as Record<K, Tensor>;
    const list = (prefix: string) => [0, 1].map((i) => opt(`${prefix}${i}`)).filter((x): x is Tensor => x !== null);

    const res = (i: number) => req(`res${training ? i : i % 2}`);
    const layer = (l: number): LayerActs => {
      const p = `L${training ? l : 0}.`;
      const lora = new Map<LinearBinding, Tensor>();
      for (const b of projections(binding.layers[l])) if (b.lora) lora.set(b, req(loraLabel(l, b.def.module, b.def.block)));
      return {
        ...pick(LAYER_TENSORS, p),
        inp: res(l),
        out: res(l + 1),
        mean1: opt(`${p}mean1`),
        mean2: opt(`${p}mean2`),
        qlin: opt('qlin'),
        klin: opt('klin'),
        qk: cfg.qkNorm ? { qpre: req(`${p}qpre`), kpre: req(`${p}kpre`), rstdq: req(`${p}rstdq`), rstdk: req(`${p}rstdk`) } : null,
        bnAttn: binding.layers[l].attnAdapter ? pair(`${p}bnAttn.h`, `${p}bnAttn.a`) : null,
        bnMlp: binding.layers[l].mlpAdapter ? pair(`${p}bnMlp.h`, `${p}bnMlp.a`) : null,
        fc: list(`${p}fc`),
        lora,
      };
    };
    this.layers = Array.from({ length: cfg.layers }, (_, l) => layer(l));
    this.final = res(cfg.layers);
    this.nf = req('nf');
    this.meanf = opt('meanf');
    this.rstdf = req('rstdf');
    this.headRows = headRowsFor(cfg, B, T, headBytes);
    this.logits = req('logits');
    this.xc = req('xc');
    this.dxc = opt('dxc');
    this.losses = req('losses');
    this.lossLse = req('loss.lse');
    this.loss = req('loss');
    this.count = req('count');
    this.rowLoss = req('rows.loss');
    this.rowCount = req('rows.count');
    this.prefStats = req('pref.stats');
    this.prefGrad = req('pref.grad');
    this.drowLoss = opt('rows.dloss');
    const dbn = pair('dbn.h', 'dbn.a');
    this.grads = training
      ? {
          ...pick(GRAD_TENSORS),
          dqlin: opt('dqlin'),
          dklin: opt('dklin'),
          dfc: list('dfc'),
          du: opt('du'),
          dbn: dbn && { dh: dbn.h, da: dbn.a },
        }
      : null;
  }

  destroy(): void {
    for (const x of this.owned) x.buffer.destroy();
    this.owned.length = 0;
  }
}

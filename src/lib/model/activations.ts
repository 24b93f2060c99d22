// Activation tensors for one (B,T) shape. Training keeps every layer's activations for the backward
// pass (llm.c's ActivationTensors); inference reuses one set for all layers and ping-pongs the
// residual stream between two buffers. Each tensor gets a GPUBuffer of its own: WebGPU forbids one
// buffer being read and written by the same dispatch, and every op here reads one activation to
// write the next.
import { createTensor, type DType, type Gpu, type Tensor } from '../gpu/index.ts';
import type { ModelConfig } from './config.ts';
import type { LinearBinding, ModelBinding } from './bindings.ts';

export interface LayerActs {
  /** residual stream into the layer (B,T,C) */
  inp: Tensor;
  n1: Tensor; // (B,T,C) first norm's output
  mean1: Tensor | null; // (B,T) LayerNorm only
  rstd1: Tensor; // (B,T)
  qlin: Tensor | null; // (B,T,NH,HS) before RoPE (rotary models; shared by all layers)
  klin: Tensor | null; // (B,T,NKV,HS) before RoPE (shared)
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

/** Target size of the logits buffer (rows × V × 4 bytes). */
export const HEAD_BYTES = 64 * 1024 * 1024;

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
  readonly grads: GradActs | null;
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
    const { hidden: C, heads: NH, kvHeads: NKV, headDim: HS, intermediate: I } = cfg;
    let bytes = 0;
    const t = (shape: number[], label: string, dtype: DType = 'f32') => {
      const x = createTensor(gpu, shape, dtype, label);
      this.owned.push(x);
      bytes += x.buffer.size;
      return x;
    };
    const BT = [B, T];
    const ln = cfg.norm === 'layernorm';
    const rope = cfg.positions === 'rope';
    const maxR = Math.max(0, ...binding.layers.flatMap((l) => [l.q, l.k, l.v, l.o, ...l.mlpIn, l.mlpOut].map((b) => b.lora?.r ?? 0)));
    const bnSize = binding.layers.find((l) => l.attnAdapter ?? l.mlpAdapter);
    const S = bnSize ? (bnSize.attnAdapter ?? bnSize.mlpAdapter)!.size : 0;

    // RoPE's inputs are not needed by the backward (it rotates the gradient back): one pair serves all layers.
    const qlin = rope ? t([B, T, NH, HS], 'qlin') : null;
    const klin = rope ? t([B, T, NKV, HS], 'klin') : null;
    const res: Tensor[] = [];
    const nRes = training ? cfg.layers + 1 : 2;
    for (let i = 0; i < nRes; i++) res.push(t([B, T, C], `res${i}`));
    const layer = (l: number, shared?: LayerActs): LayerActs => {
      const p = `L${l}.`;
      const inp = res[training ? l : l % 2];
      const out = res[training ? l + 1 : (l + 1) % 2];
      if (shared) return { ...shared, inp, out };
      const lb = binding.layers[l];
      const lora = new Map<LinearBinding, Tensor>();
      for (const b of [lb.q, lb.k, lb.v, lb.o, ...lb.mlpIn, lb.mlpOut]) {
        if (b.lora) lora.set(b, t([B * T, b.lora.r], `${p}lora.${b.def.module}`));
      }
      const bn = (name: string, on: boolean) => (on && S ? { h: t([B, T, S], `${p}${name}.h`), a: t([B, T, S], `${p}${name}.a`) } : null);
      return {
        inp,
        n1: t([B, T, C], `${p}n1`),
        mean1: ln ? t(BT, `${p}mean1`) : null,
        rstd1: t(BT, `${p}rstd1`),
        qlin,
        klin,
        q: t([B, T, NH, HS], `${p}q`),
        k: t([B, T, NKV, HS], `${p}k`),
        v: t([B, T, NKV, HS], `${p}v`),
        att: t([B, T, NH, HS], `${p}att`),
        lse: t([B, NH, T], `${p}lse`),
        ao: t([B, T, C], `${p}ao`),
        bnAttn: bn('bnAttn', lb.attnAdapter !== null),
        mid: t([B, T, C], `${p}mid`),
        n2: t([B, T, C], `${p}n2`),
        mean2: ln ? t(BT, `${p}mean2`) : null,
        rstd2: t(BT, `${p}rstd2`),
        fc: lb.mlpIn.map((_, i) => t([B, T, I], `${p}fc${i}`)),
        hmid: t([B, T, I], `${p}hmid`),
        mo: t([B, T, C], `${p}mo`),
        bnMlp: bn('bnMlp', lb.mlpAdapter !== null),
        out,
        lora,
      };
    };
    if (training) {
      this.layers = Array.from({ length: cfg.layers }, (_, l) => layer(l));
    } else {
      // One set for every layer; the LoRA map still has one entry per projection binding.
      const first = layer(0);
      for (const lb of binding.layers.slice(1)) {
        for (const b of [lb.q, lb.k, lb.v, lb.o, ...lb.mlpIn, lb.mlpOut]) if (b.lora) first.lora.set(b, t([B * T, b.lora.r], 'lora'));
      }
      this.layers = Array.from({ length: cfg.layers }, (_, l) => layer(l, first));
    }
    this.final = res[training ? cfg.layers : cfg.layers % 2];
    this.nf = t([B, T, C], 'nf');
    this.meanf = ln ? t(BT, 'meanf') : null;
    this.rstdf = t(BT, 'rstdf');
    // The classifier runs over row chunks so (rows,V) stays near headBytes even for big vocabularies.
    const V = cfg.vocabSize;
    const fit = Math.max(64, Math.floor(headBytes / (V * 4) / 64) * 64);
    this.headRows = B * T <= fit ? B * T : fit;
    this.logits = t([this.headRows, V], 'logits');
    this.xc = t([this.headRows, C], 'xc');
    this.dxc = training ? t([this.headRows, C], 'dxc') : null;
    this.losses = t(BT, 'losses');
    this.lossLse = t(BT, 'loss.lse');
    this.loss = t([2], 'loss');
    this.count = t([2], 'count');
    this.grads = training
      ? {
          dres: t([B, T, C], 'dres'),
          dn: t([B, T, C], 'dn'),
          dy: t([B, T, C], 'dy'),
          datt: t([B, T, NH, HS], 'datt'),
          dq: t([B, T, NH, HS], 'dq'),
          dk: t([B, T, NKV, HS], 'dk'),
          dv: t([B, T, NKV, HS], 'dv'),
          dqlin: rope ? t([B, T, NH, HS], 'dqlin') : null,
          dklin: rope ? t([B, T, NKV, HS], 'dklin') : null,
          dfc: binding.layers[0].mlpIn.map((_, i) => t([B, T, I], `dfc${i}`)),
          dhmid: t([B, T, I], 'dhmid'),
          du: maxR ? t([B * T, maxR], 'du') : null,
          dbn: S ? { dh: t([B, T, S], 'dbn.h'), da: t([B, T, S], 'dbn.a') } : null,
          dlosses: t(BT, 'dlosses'),
          zeros: t(BT, 'zeros'),
        }
      : null;
    this.bytes = bytes;
  }

  destroy(): void {
    for (const x of this.owned) x.buffer.destroy();
    this.owned.length = 0;
  }
}

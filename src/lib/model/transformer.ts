// The decoder shared by both families, as a list of dispatches (llm.c's gpt2_forward/backward):
//
//   x = wte[ids] (+ wpe[pos])                                    embedding
//   per layer:  n1 = norm1(x)
//               q,k,v = n1·Wq,k,vᵀ (+ LoRA)  → RoPE(q,k)         Llama family only
//                                  (Qwen3: per-head RMSNorm of q,k before RoPE, qknorm.ts)
//               att = causal attention(q,k,v; prefix keys/values)
//               mid = x + att·Woᵀ (+ bottleneck)
//               n2 = norm2(mid)
//               h = silu(n2·Wgateᵀ)·(n2·Wupᵀ)   or  act(n2·Wfcᵀ)
//               x = mid + h·Wdownᵀ (+ bottleneck)
//   nf = norm_f(x); logits = nf·Wlmᵀ; loss = cross-entropy(logits, targets)
//
// The backward walks the same list in reverse. Gradients of frozen weights are never computed: with
// an adapter only the adapter's parameters (and, on the way, the activations) get gradients; full
// fine-tuning adds every weight's. Every gradient into a parameter is accumulated (the step zeroes
// the gradient store once), so micro-batches of gradient accumulation simply add up.
import { createTensor, reshape, view, writeBuffer, type Gpu, type Recorder, type Tensor } from '../gpu/index.ts';
import { activationBackward, activationForward, type ActivationKind } from '../ops/activation/activation.ts';
import { attentionBackward, attentionDecode, attentionForward, type AttentionPrefix } from '../ops/attention/attention.ts';
import { crossentropyBackward, crossentropyForward, meanLossBackward, meanLossForward } from '../ops/crossentropy/crossentropy.ts';
import { embeddingBackward, embeddingForward, gatherRows, groupRows, scatterAddRows } from '../ops/embedding/embedding.ts';
import { normBackward, normForward } from '../ops/norm/norm.ts';
import { residualForward } from '../ops/residual/residual.ts';
import { ropeBackward, ropeForward, ropeTable } from '../ops/rope/rope.ts';
import { swigluBackward, swigluForward } from '../ops/swiglu/swiglu.ts';
import { Activations, type LayerActs } from './activations.ts';
import type { Architecture } from './architecture.ts';
import type { LayerBinding, LinearBinding, ModelBinding, NormBinding, PrefixBinding } from './bindings.ts';
import { bottleneckBackward, bottleneckForward } from './bottleneck.ts';
import { classifier, classifierBackward } from './classifier.ts';
import { linearBackward, linearForward } from './linear.ts';
import { qkNormBackward, qkNormForward } from './qknorm.ts';

/** Where the keys and values of earlier positions live during generation (one per layer). */
export interface KvCache {
  k: Tensor[]; // L × (B,maxT,NKV,HS)
  v: Tensor[]; // L × (B,maxT,NKV,HS)
  /** tokens already cached (the new queries take positions past..past+T-1) */
  past: number;
}

/**
 * The positions whose loss counts, compacted (the classifier only runs on these rows): rows holds
 * their flat indices b·T+t ascending, targets their targets, both (B·T) i32 with `count` in use.
 */
export interface HeadInputs {
  rows: Tensor;
  targets: Tensor;
  count: number;
  /** 0, 1, 2, ... (B·T+1) u32 */
  iota: Tensor;
  /** (B) i32 each row's last token b·T+t, −1 for none: where the reward head reads (model.ts lastTokens) */
  last: Tensor;
}

/**
 * A loss over whole sequences built from the per-token losses (train/preference.ts): given the
 * compacted per-token losses (M) of the counted positions, it records its own outputs and, in training,
 * writes dlosses (M) = ∂objective/∂losses. `losses` is null when no position counts.
 */
export type SequenceLoss = (rec: Recorder, losses: Tensor | null, dlosses: Tensor | null) => void;

export interface ForwardInputs {
  ids: Tensor; // (B,T) i32
  /** position of each token within its sequence (B,T) i32, usually 0..T-1 */
  positions: Tensor;
  /** generation: read and extend this cache instead of attending only within the batch */
  cache?: KvCache;
  /** the same ids and positions on the host: full fine-tuning's embedding backward groups by them */
  hostIds?: Int32Array;
  hostPositions?: Int32Array;
  /** training: seeds LoRA dropout masks (one value per micro-batch; forward and backward share it) */
  dropoutSeed?: number;
}

export class Transformer {
  readonly cfg: Architecture['cfg'];
  private rope: Tensor | null = null;
  private ropePositions = 0;
  private readonly mlpAct: ActivationKind;
  /** small per-step buffers (embedding backward's row groups), freed by releaseTransient() */
  private transient: Tensor[] = [];

  constructor(
    readonly gpu: Gpu,
    readonly arch: Architecture,
    public binding: ModelBinding,
  ) {
    this.cfg = arch.cfg;
    this.mlpAct = this.cfg.mlp === 'gelu' ? 'gelu_erf' : this.cfg.mlp === 'swiglu' ? 'silu' : this.cfg.mlp;
  }

  /** Frees the per-step buffers of submitted work (call after the step's command buffer is submitted). */
  releaseTransient(): void {
    for (const t of this.transient) t.buffer.destroy();
    this.transient = [];
  }

  destroy(): void {
    this.releaseTransient();
    this.rope?.buffer.destroy();
    this.rope = null;
  }

  /** The RoPE (cos, sin) table, grown to cover `positions` positions (prefix included). */
  ropeTableFor(positions: number): Tensor {
    if (!this.rope || this.ropePositions < positions) {
      // An outgrown table may still be bound in a command buffer not yet submitted: free it later.
      if (this.rope) this.transient.push(this.rope);
      const n = Math.max(positions, this.cfg.maxPositions + this.binding.prefixLength);
      const table = ropeTable(n, this.cfg.headDim, this.cfg.ropeTheta);
      this.rope = createTensor(this.gpu, [n, this.cfg.headDim / 2, 2], 'f32', 'rope');
      writeBuffer(this.gpu, this.rope.buffer, 0, table);
      this.ropePositions = n;
    }
    return this.rope;
  }

  // ------------------------------------------------------------------ forward

  forward(rec: Recorder, acts: Activations, inp: ForwardInputs): void {
    const b = this.binding;
    const past = inp.cache?.past ?? 0;
    // Real tokens sit after the P prefix positions (as transformers does with a P-long cache).
    const offset = b.prefixLength + past;
    embeddingForward(rec, acts.layers[0].inp, inp.ids, inp.positions, b.wte, b.wpe, offset);
    const table = this.cfg.positions === 'rope' ? this.ropeTableFor(offset + acts.T) : null;
    for (let l = 0; l < this.cfg.layers; l++) {
      this.layerForward(rec, l, acts.layers[l], b.layers[l], inp, table, offset);
    }
    this.norm(rec, acts.nf, acts.meanf, acts.rstdf, acts.final, b.finalNorm);
  }

  private norm(rec: Recorder, out: Tensor, mean: Tensor | null, rstd: Tensor, x: Tensor, n: NormBinding): void {
    normForward(rec, out, mean, rstd, x, n.weight, n.bias, { kind: this.cfg.norm, eps: this.cfg.normEps });
  }

  private layerForward(
    rec: Recorder,
    l: number,
    a: LayerActs,
    lb: LayerBinding,
    inp: ForwardInputs,
    table: Tensor | null,
    offset: number,
  ): void {
    const seed = inp.dropoutSeed;
    this.norm(rec, a.n1, a.mean1, a.rstd1, a.inp, lb.norm1);
    this.linear(rec, a.qk?.qpre ?? a.qlin ?? a.q, a.n1, lb.q, a, seed);
    this.linear(rec, a.qk?.kpre ?? a.klin ?? a.k, a.n1, lb.k, a, seed);
    this.linear(rec, a.v, a.n1, lb.v, a, seed);
    if (a.qk) qkNormForward(rec, a, lb, this.cfg.normEps);
    if (table) {
      ropeForward(rec, a.q, a.qlin!, inp.positions, table, { offset });
      ropeForward(rec, a.k, a.klin!, inp.positions, table, { offset });
    }
    const prefix = attentionPrefix(lb.prefix);
    if (inp.cache) {
      const { k, v, past } = inp.cache;
      appendToCache(rec, k[l], a.k, past);
      appendToCache(rec, v[l], a.v, past);
      attentionDecode(rec, a.att, a.lse, a.q, k[l], v[l], past, { prefix });
    } else {
      attentionForward(rec, a.att, a.lse, a.q, a.k, a.v, { prefix });
    }
    this.linear(rec, a.ao, a.att, lb.o, a, seed);
    residualForward(rec, a.mid, a.inp, a.ao);
    if (lb.attnAdapter) bottleneckForward(rec, a.mid, a.ao, lb.attnAdapter, a.bnAttn!);

    this.norm(rec, a.n2, a.mean2, a.rstd2, a.mid, lb.norm2);
    lb.mlpIn.forEach((lin, i) => this.linear(rec, a.fc[i], a.n2, lin, a, seed));
    if (this.cfg.mlp === 'swiglu') swigluForward(rec, a.hmid, a.fc[0], a.fc[1]);
    else activationForward(rec, a.hmid, a.fc[0], this.mlpAct);
    this.linear(rec, a.mo, a.hmid, lb.mlpOut, a, seed);
    residualForward(rec, a.out, a.mid, a.mo);
    if (lb.mlpAdapter) bottleneckForward(rec, a.out, a.mo, lb.mlpAdapter, a.bnMlp!);
  }

  /** A projection with its LoRA branch activation (see linear.ts). */
  private linear(rec: Recorder, out: Tensor, x: Tensor, lin: LinearBinding, a: LayerActs, seed: number | undefined): void {
    linearForward(rec, out, x, lin, a.lora.get(lin) ?? null, seed);
  }

  // ------------------------------------------------------------------ classifier and loss

  /**
   * Logits of every position into `out` (B·T, V) — for tests and evaluation of small batches.
   * `rows` restricts it to rows [start, start+count) of nf (out is then (count, V)).
   */
  logits(rec: Recorder, acts: Activations, out: Tensor, rows?: { start: number; count: number }): void {
    const C = this.cfg.hidden;
    const start = rows?.start ?? 0;
    const count = rows?.count ?? acts.B * acts.T;
    const x = rowsOf(rec, acts.nf, start, count, C, acts);
    classifier(rec, out, x, this.binding.lmHead);
  }

  /**
   * Mean cross-entropy loss of the batch into acts.loss[0] (and [1] = the count) and, with
   * `backward`, its gradient dloss·∂loss/∂nf into grads.dn (the start of the backward pass). `dloss`
   * scales the gradient (1/accumulation steps). Only the rows whose target counts go through the
   * classifier (prompt tokens of an SFT batch do not), gathered in chunks of acts.headRows so no
   * (B·T, V) tensor is ever held; each chunk's logits become its dlogits in place.
   *
   * With `sequence`, the objective is that sequence-level loss instead (acts.loss still gets the mean
   * cross-entropy and count): its per-token gradient is known only once every chunk's losses are, so
   * the backward takes a second pass over the chunks, computing a chunk's logits again unless one chunk
   * held them all (the usual case: acts.headRows rows fit the head's budget).
   */
  loss(rec: Recorder, acts: Activations, head: HeadInputs, opts: { backward: boolean; dloss?: number; sequence?: SequenceLoss }): void {
    const C = this.cfg.hidden;
    const V = this.cfg.vocabSize;
    const g = acts.grads;
    if (opts.backward && !g) throw new Error('loss: these activations were created without gradients (training: false)');
    const M = head.count;
    const seq = opts.sequence;
    if (opts.backward) rec.clear(g!.dn);
    if (M === 0) {
      rec.clear(acts.loss);
      seq?.(rec, null, null);
      return;
    }
    const targets = view(head.targets, [M]);
    if (opts.backward && !seq) {
      // dlosses = dloss/count on every gathered row (the mean of M zeros gives [0, M]).
      meanLossForward(rec, acts.count, view(g!.zeros, [M]), targets);
      meanLossBackward(rec, view(g!.dlosses, [M]), targets, acts.count, opts.dloss ?? 1);
    }
    const R = acts.headRows;
    const chunk = (r0: number) => {
      const rows = Math.min(R, M - r0);
      const idx = view(head.rows, [rows], r0);
      const x = view(acts.xc, [rows, C]);
      const logits = view(acts.logits, [rows, V]);
      return { rows, idx, x, logits, tgt: view(targets, [rows], r0), lse: view(acts.lossLse, [rows], r0) };
    };
    const logitsOf = (c: ReturnType<typeof chunk>) => {
      gatherRows(rec, c.x, c.idx, reshape(acts.nf, [acts.B * acts.T, C]));
      classifier(rec, c.logits, c.x, this.binding.lmHead);
    };
    const backwardOf = (c: ReturnType<typeof chunk>, r0: number) => {
      crossentropyBackward(rec, c.logits, c.tgt, c.lse, view(g!.dlosses, [c.rows], r0));
      const dx = view(acts.dxc!, [c.rows, C]);
      classifierBackward(rec, dx, c.logits, c.x, this.binding.lmHead);
      scatterAddRows(rec, reshape(g!.dn, [acts.B * acts.T, C]), dx, c.idx, head.iota);
    };
    for (let r0 = 0; r0 < M; r0 += R) {
      const c = chunk(r0);
      logitsOf(c);
      crossentropyForward(rec, view(acts.losses, [c.rows], r0), c.lse, c.logits, c.tgt);
      if (opts.backward && !seq) backwardOf(c, r0);
    }
    meanLossForward(rec, acts.loss, view(acts.losses, [M]), targets);
    if (!seq) return;
    seq(rec, view(acts.losses, [M]), opts.backward ? view(g!.dlosses, [M]) : null);
    if (!opts.backward) return;
    for (let r0 = 0; r0 < M; r0 += R) {
      const c = chunk(r0);
      if (M > R) logitsOf(c); // the last chunk's logits overwrote this one's
      backwardOf(c, r0);
    }
  }

  // ------------------------------------------------------------------ backward

  /**
   * From grads.dn = ∂loss/∂nf (written by loss()) down to the embedding: gradients of every
   * trainable parameter are added into the gradient store.
   */
  backward(rec: Recorder, acts: Activations, inp: ForwardInputs): void {
    const g = acts.grads!;
    const b = this.binding;
    this.normBackward(rec, g.dres, g.dn, acts.final, acts.meanf, acts.rstdf, b.finalNorm, false);
    const table = this.cfg.positions === 'rope' ? this.ropeTableFor(b.prefixLength + acts.T) : null;
    // Nothing before layer 0 trains unless the embeddings do: then its input gradient is skipped.
    const embeddingsTrain = !!(b.wte.grads || b.wpe?.grads);
    for (let l = this.cfg.layers - 1; l >= 0; l--) {
      this.layerBackward(rec, acts.layers[l], b.layers[l], acts, inp, table, b.prefixLength, l > 0 || embeddingsTrain);
    }
    if (b.wte.grads || b.wpe?.grads) {
      if (!inp.hostIds || !inp.hostPositions) throw new Error('backward: full fine-tuning needs hostIds and hostPositions');
      embeddingBackward(rec, b.wte, g.dres, groupRows(inp.hostIds), this.transient);
      if (b.wpe) embeddingBackward(rec, b.wpe, g.dres, groupRows(inp.hostPositions, b.prefixLength), this.transient);
    }
  }

  private normBackward(
    rec: Recorder,
    dinp: Tensor,
    dout: Tensor,
    x: Tensor,
    mean: Tensor | null,
    rstd: Tensor,
    n: NormBinding,
    accumulate: boolean,
  ): void {
    normBackward(rec, dinp, n.dweight, n.dbias, dout, x, n.weight, mean, rstd, this.cfg.norm, { accumulate });
  }

  private layerBackward(
    rec: Recorder,
    a: LayerActs,
    lb: LayerBinding,
    acts: Activations,
    inp: ForwardInputs,
    table: Tensor | null,
    offset: number,
    inputGrad: boolean,
  ): void {
    const g = acts.grads!;
    const seed = inp.dropoutSeed;
    // g.dres holds ∂loss/∂out. MLP sublayer: out = mid + mo (+ up(act(down(mo))))
    let dmo = g.dres;
    if (lb.mlpAdapter) {
      bottleneckBackward(rec, g.dy, g.dres, a.mo, lb.mlpAdapter, a.bnMlp!, g.dbn!);
      dmo = g.dy;
    }
    this.linearBackward(rec, g.dhmid, dmo, a.hmid, lb.mlpOut, a, acts, false, seed);
    if (this.cfg.mlp === 'swiglu') swigluBackward(rec, g.dfc[0], g.dfc[1], g.dhmid, a.fc[0], a.fc[1], { accumulate: false });
    else activationBackward(rec, g.dfc[0], g.dhmid, a.fc[0], this.mlpAct, { accumulate: false });
    lb.mlpIn.forEach((lin, i) => this.linearBackward(rec, g.dn, g.dfc[i], a.n2, lin, a, acts, i > 0, seed));
    // mid feeds both the residual (dres passes through) and norm2.
    this.normBackward(rec, g.dres, g.dn, a.mid, a.mean2, a.rstd2, lb.norm2, true);

    // Attention sublayer: mid = inp + ao (+ up(act(down(ao))))
    let dao = g.dres;
    if (lb.attnAdapter) {
      bottleneckBackward(rec, g.dy, g.dres, a.ao, lb.attnAdapter, a.bnAttn!, g.dbn!);
      dao = g.dy;
    }
    this.linearBackward(rec, g.datt, dao, a.att, lb.o, a, acts, false, seed);
    const prefix = attentionPrefix(lb.prefix);
    attentionBackward(rec, g.dq, g.dk, g.dv, lb.prefix?.dkv ?? null, g.datt, a.att, a.q, a.k, a.v, a.lse, {
      prefix,
      accumulate: false,
    });
    let dq = g.dq;
    let dk = g.dk;
    if (table) {
      ropeBackward(rec, g.dqlin!, g.dq, inp.positions, table, { offset, accumulate: false });
      ropeBackward(rec, g.dklin!, g.dk, inp.positions, table, { offset, accumulate: false });
      dq = g.dqlin!;
      dk = g.dklin!;
    }
    if (a.qk) {
      qkNormBackward(rec, g, a, lb); // dqlin/dklin back through the norms into dq/dk
      [dq, dk] = [g.dq, g.dk];
    }
    const dn = inputGrad ? g.dn : null;
    this.linearBackward(rec, dn, dq, a.n1, lb.q, a, acts, false, seed);
    this.linearBackward(rec, dn, dk, a.n1, lb.k, a, acts, true, seed);
    this.linearBackward(rec, dn, g.dv, a.n1, lb.v, a, acts, true, seed);
    if (inputGrad) this.normBackward(rec, g.dres, g.dn, a.inp, a.mean1, a.rstd1, lb.norm1, true);
  }

  private linearBackward(
    rec: Recorder,
    dx: Tensor | null,
    dout: Tensor,
    x: Tensor,
    lin: LinearBinding,
    a: LayerActs,
    acts: Activations,
    accumulate: boolean,
    seed: number | undefined,
  ): void {
    const u = a.lora.get(lin);
    const lora = lin.lora && u ? { u, du: view(acts.grads!.du!, u.shape) } : null;
    linearBackward(rec, dx, dout, x, lin, lora, accumulate, seed);
  }
}

// ------------------------------------------------------------------ helpers

function attentionPrefix(p: PrefixBinding | null): AttentionPrefix | undefined {
  return p ? { kv: p.kv, P: p.P, offset: p.offset, stride: p.stride } : undefined;
}

/**
 * Rows [start, start+count) of x (N,C) as a bindable tensor: a view when the row offset is
 * 256-byte aligned, else a copy into scratch.
 */
function rowsOf(rec: Recorder, x: Tensor, start: number, count: number, C: number, acts: Activations): Tensor {
  if (start === 0 && count * C === x.shape.reduce((p, q) => p * q, 1)) return reshape(x, [count, C]);
  if ((start * C * 4) % 256 === 0) return view(x, [count, C], start * C);
  const tmp = rec.gpu.scratch(`rows:${acts.B}x${acts.T}`, count * C);
  const src = view(x, [count, C], 0);
  rec.copy({ ...src, offset: x.offset + start * C * 4 }, reshape(tmp, [count, C]));
  return reshape(tmp, [count, C]);
}

/** Writes k or v (B,T,NKV,HS) into positions past..past+T-1 of a cache (B,maxT,NKV,HS). */
function appendToCache(rec: Recorder, cache: Tensor, x: Tensor, past: number): void {
  const [B, T, NKV, HS] = x.shape;
  const maxT = cache.shape[1];
  const row = NKV * HS;
  for (let b = 0; b < B; b++) {
    const src = view(x, [T, NKV, HS], b * T * row);
    const dst: Tensor = { ...cache, shape: [T, NKV, HS], offset: cache.offset + (b * maxT + past) * row * 4 };
    rec.copy(src, dst);
  }
}


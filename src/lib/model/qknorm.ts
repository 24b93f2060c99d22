// Qwen3's q/k norm: after the q and k projections and before RoPE, every head of q (B,T,NH,HS) and
// of k (B,T,NKV,HS) is RMS-normalised over its HS values and scaled by the layer's q_norm / k_norm
// weights (HS), as transformers' Qwen3Attention does. The norm op normalises the last axis, so a
// (B,T,H,HS) tensor is simply B·T·H rows of HS (tests/ops/norm.test.ts checks that use).
import type { Recorder } from '../gpu/index.ts';
import { normBackward, normForward } from '../ops/norm/norm.ts';
import type { GradActs, LayerActs } from './activations.ts';
import type { LayerBinding } from './bindings.ts';

/** qlin = q_norm(qpre), klin = k_norm(kpre), keeping each head's rstd for the backward. */
export function qkNormForward(rec: Recorder, a: LayerActs, lb: LayerBinding, eps: number): void {
  const { qk } = a;
  if (!qk || !lb.qNorm || !lb.kNorm || !a.qlin || !a.klin) throw new Error('qkNormForward: this layer has no q/k norm');
  const norm = { kind: 'rmsnorm', eps } as const;
  normForward(rec, a.qlin, null, qk.rstdq, qk.qpre, lb.qNorm.weight, null, norm);
  normForward(rec, a.klin, null, qk.rstdk, qk.kpre, lb.kNorm.weight, null, norm);
}

/**
 * From the gradients of the norms' outputs (g.dqlin, g.dklin, RoPE's backward) to those of the
 * projections' outputs, written into g.dq and g.dk (free again once RoPE's backward has read them);
 * the norm weights' gradients are added when they train (full fine-tuning).
 */
export function qkNormBackward(rec: Recorder, g: GradActs, a: LayerActs, lb: LayerBinding): void {
  const { qk } = a;
  if (!qk || !lb.qNorm || !lb.kNorm || !g.dqlin || !g.dklin) throw new Error('qkNormBackward: this layer has no q/k norm');
  // The op's `accumulate` covers both dinp and dweight, and parameter gradients must add up over
  // micro-batches: clear dq/dk and accumulate into them.
  rec.clear(g.dq);
  rec.clear(g.dk);
  normBackward(rec, g.dq, lb.qNorm.dweight, null, g.dqlin, qk.qpre, lb.qNorm.weight, null, qk.rstdq, 'rmsnorm');
  normBackward(rec, g.dk, lb.kNorm.dweight, null, g.dklin, qk.kpre, lb.kNorm.weight, null, qk.rstdk, 'rmsnorm');
}

// CPU reference for global gradient-norm clipping (torch.nn.utils.clip_grad_norm_ semantics),
// computed over the finite gradients, plus the count of non-finite ones.

export interface GradStats {
  /** sqrt(Σ g²) over finite g */
  norm: number;
  /** min(1, maxNorm / (norm + 1e-6)); 1 when maxNorm <= 0 */
  scale: number;
  /** number of NaN / ±Inf gradients */
  nonfinite: number;
}

export function gradStats(grads: ArrayLike<number>, maxNorm: number): GradStats {
  let s = 0;
  let nonfinite = 0;
  for (let i = 0; i < grads.length; i++) {
    const g = grads[i];
    if (Number.isFinite(g)) s += g * g;
    else nonfinite++;
  }
  const norm = Math.sqrt(s);
  const scale = maxNorm > 0 ? Math.min(1, maxNorm / (norm + 1e-6)) : 1;
  return { norm, scale, nonfinite };
}

// Softmax cross-entropy over the vocabulary with a loss mask, plain loops in float64 (the loss
// convention of tests/fixtures/README.md and PyTorch's F.cross_entropy(ignore_index=-100)):
//   losses[b,t] = logsumexp(logits[b,t,:]) - logits[b,t,targets[b,t]],  or 0 where targets[b,t] = -100
//   mean loss   = Σ losses / count,  count = number of (b,t) with targets[b,t] != -100  (0 if count = 0)
// A target outside [0,V) other than -100 is a bug upstream: its loss is NaN so the bug shows.

/**
 * The target of a position whose loss does not count (PyTorch's ignore_index), defined once here: this
 * file imports nothing, so the data layer can use it too. The WGSL kernels repeat it as a `const`.
 */
export const IGNORE_INDEX = -100;

export interface CrossentropyCache {
  logits: Float64Array; // (B,T,V)
  targets: Int32Array; // (B,T)
  lse: Float64Array; // (B,T) logsumexp of each counted row
  B: number;
  T: number;
  V: number;
}

export function forward(
  logits: Float64Array, // (B,T,V)
  targets: Int32Array, // (B,T)
  B: number,
  T: number,
  V: number,
): { out: Float64Array; cache: CrossentropyCache } {
  const losses = new Float64Array(B * T); // (B,T)
  const lse = new Float64Array(B * T); // (B,T)
  for (let row = 0; row < B * T; row++) {
    const target = targets[row];
    if (target === IGNORE_INDEX) continue;
    const x = row * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[x + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[x + v] - max);
    lse[row] = max + Math.log(sum);
    losses[row] = target >= 0 && target < V ? lse[row] - logits[x + target] : NaN;
  }
  return { out: losses, cache: { logits, targets, lse, B, T, V } };
}

// dlogits[b,t,v] = (softmax(logits[b,t])[v] - [v = target]) · dlosses[b,t] on counted rows, 0 elsewhere.
export function backward(
  dlosses: Float64Array, // (B,T)
  cache: CrossentropyCache,
): { dlogits: Float64Array } {
  const { logits, targets, lse, B, T, V } = cache;
  const dlogits = new Float64Array(B * T * V); // (B,T,V)
  for (let row = 0; row < B * T; row++) {
    const target = targets[row];
    if (target === IGNORE_INDEX) continue;
    const x = row * V;
    for (let v = 0; v < V; v++) {
      const p = Math.exp(logits[x + v] - lse[row]);
      dlogits[x + v] = (p - (v === target ? 1 : 0)) * dlosses[row];
    }
  }
  return { dlogits };
}

export interface MeanLossCache {
  targets: Int32Array; // (B,T)
  count: number;
}

/** out = [mean loss, count of counted tokens]: the 2-float layout of the GPU `loss` buffer. */
export function meanForward(
  losses: Float64Array, // (B,T)
  targets: Int32Array, // (B,T)
): { out: Float64Array; cache: MeanLossCache } {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < losses.length; i++) {
    if (targets[i] === IGNORE_INDEX) continue;
    sum += losses[i];
    count++;
  }
  return { out: Float64Array.of(count > 0 ? sum / count : 0, count), cache: { targets, count } };
}

/** dlosses[b,t] = dloss / count on counted tokens, 0 on ignored ones (dloss: gradient of the mean). */
export function meanBackward(dloss: number, cache: MeanLossCache): { dlosses: Float64Array } {
  const { targets, count } = cache;
  const dlosses = new Float64Array(targets.length); // (B,T)
  for (let i = 0; i < targets.length; i++) {
    if (targets[i] !== IGNORE_INDEX) dlosses[i] = dloss / count;
  }
  return { dlosses };
}

// Softmax cross-entropy forward, one workgroup per (b,t) row, fused over the vocabulary:
//   losses = logsumexp(logits) - logits[target] (0 where the target is -100); lse is saved for the backward.
// Online max/sum in one read of the row; no probabilities are stored. Matches forward() in reference.ts.

struct Params {
  N: u32, // B*T rows
  V: u32, // vocabulary size
}

override WG: u32 = 256; // a power of two: the tree reduction halves it

@group(0) @binding(0) var<storage, read_write> losses: array<f32>; // (B,T)
@group(0) @binding(1) var<storage, read_write> lse: array<f32>;    // (B,T) logsumexp of each row
@group(0) @binding(2) var<storage, read> logits: array<f32>;       // (B,T,V)
@group(0) @binding(3) var<storage, read> targets: array<i32>;      // (B,T), -100 = no loss
@group(0) @binding(4) var<uniform> p: Params;

const IGNORE_INDEX = -100;
const MIN_F32 = -0x1.fffffep+127f; // the lowest finite f32, "minus infinity": exp(MIN_F32 - MIN_F32) = 1, not NaN

var<workgroup> partial: array<vec2f, WG>; // (running max, sum of exp(x - max))

// Merges two (max, sum) pairs: the sums are rescaled to the larger max.
fn merge(a: vec2f, b: vec2f) -> vec2f {
  let m = max(a.x, b.x);
  return vec2f(m, a.y * exp(a.x - m) + b.y * exp(b.x - m));
}

fn nan() -> f32 {
  var bits = 0x7fc00000u; // through a var: WGSL rejects NaN in constant expressions
  return bitcast<f32>(bits);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x; // grid1d(N, 1) folds many rows into y
  if (row >= p.N) { return; }
  let tgt = targets[row];
  if (tgt == IGNORE_INDEX) {
    // masked rows (prompt tokens, padding) cost one read of the target
    if (lid == 0u) {
      losses[row] = 0.0;
      lse[row] = 0.0;
    }
    return;
  }
  let x = row * p.V;

  var acc = vec2f(MIN_F32, 0.0);
  for (var v = lid; v < p.V; v += WG) {
    let z = logits[x + v];
    if (z > acc.x) {
      acc = vec2f(z, acc.y * exp(acc.x - z) + 1.0);
    } else {
      acc.y += exp(z - acc.x); // NaN logits fall here and poison the sum, as they should
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] = merge(partial[lid], partial[lid + s]); }
    workgroupBarrier();
  }

  if (lid == 0u) {
    let total = partial[0];
    let l = total.x + log(total.y);
    lse[row] = l;
    // a target outside [0,V) other than -100 is a bug upstream: NaN makes it visible
    let valid = tgt >= 0 && u32(tgt) < p.V;
    losses[row] = select(nan(), l - logits[x + u32(max(tgt, 0))], valid);
  }
}

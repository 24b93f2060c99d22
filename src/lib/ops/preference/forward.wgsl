// Preference loss forward over P pairs (rows 2k chosen, 2k+1 rejected), in one workgroup (a fixed
// order of summation): each pair's loss, rewards and log-probs (DPO sigmoid/ipo/robust, SimPO, ORPO;
// the reward model's −log σ(r⁺ − r⁻ − γ), whose sums are the rows' rewards),
// their means over the pairs that count into stats, and each row's ∂(pair loss)/∂sums into grad for
// the backward. Matches forward() in src/lib/ops/preference/reference.ts.

struct Params {
  P: u32,         // pairs
  kind: u32,      // 0 sigmoid, 1 ipo, 2 robust (DPO); 3 simpo; 4 orpo; 5 reward (PREFERENCE_KINDS)
  beta: f32,      // β (IPO's τ, ORPO's λ)
  gamma: f32,     // SimPO's and the reward model's margin γ
  smoothing: f32, // robust DPO's ε
}

override WG: u32 = 64; // a power of two: the tree reduction halves it

@group(0) @binding(0) var<storage, read_write> stats: array<f32>; // (10) STATS in reference.ts
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;  // (2P) ∂(pair loss)/∂sums per row
@group(0) @binding(2) var<storage, read> sums: array<f32>;        // (2P) Σ −log p over each completion
@group(0) @binding(3) var<storage, read> counts: array<f32>;      // (2P) completion tokens per row
@group(0) @binding(4) var<storage, read> reference: array<f32>;   // (2P) the reference's log π (DPO)
@group(0) @binding(5) var<uniform> p: Params;

const LN2: f32 = 0.693147182464599609375f; // ln 2 rounded to f32 (exactly representable as written)
const ORPO_MAX_LOGP: f32 = -1e-6;           // ORPO's average log-prob stays below this (reference.ts)

// Three accumulators per thread: (loss, reward chosen, reward rejected, margin),
// (accuracy, logp chosen, logp rejected, pairs), (chosen sums, chosen tokens, -, -).
var<workgroup> acc0: array<vec4f, WG>;
var<workgroup> acc1: array<vec4f, WG>;
var<workgroup> acc2: array<vec4f, WG>;

// log(1 + e^x) = max(x, 0) + ln 2 + log((1 + e^-|x|) / 2): written around ln 2 so that softplus(0), the
// loss of a pair whose policy equals its reference (the first step of a run), is ln 2 rounded once
// rather than the GPU's approximation of log(2); log's argument stays in (0.5, 1].
fn softplus(x: f32) -> f32 {
  return max(x, 0.0) + LN2 + log(0.5 + 0.5 * exp(-abs(x)));
}

// 1 / (1 + e^-x) without overflow for large |x|.
fn sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}

// e^x - 1, accurate near 0 where exp(x) - 1 cancels.
fn expm1(x: f32) -> f32 {
  if (abs(x) < 1e-3) { return x * (1.0 + x * (0.5 + x / 6.0)); }
  return exp(x) - 1.0;
}

// log(1 - e^x) for x < 0, split at -ln 2 as TRL's log1mexp is.
fn log1mexp(x: f32) -> f32 {
  if (x < -LN2) { return log(1.0 - exp(x)); }
  return log(-expm1(x));
}

struct Pair {
  loss: f32,
  rc: f32,    // reward of the chosen completion
  rr: f32,    // reward of the rejected one
  logpc: f32, // its log-prob as reported (sum, or per token for SimPO and ORPO)
  logpr: f32,
  dlpc: f32,  // ∂loss/∂log π of the chosen row
  dlpr: f32,
}

fn pairTerms(lpc: f32, lpr: f32, nc: f32, nr: f32, refc: f32, refr: f32) -> Pair {
  let beta = p.beta;
  var t: Pair;
  switch (p.kind) {
    case 0u, 2u: { // DPO sigmoid, robust: d = (lpc − refc) − (lpr − refr)
      let dc = lpc - refc;
      let dr = lpr - refr;
      let d = dc - dr;
      if (p.kind == 0u) {
        t.loss = softplus(-beta * d);
        t.dlpc = -beta * sigmoid(-beta * d);
      } else {
        let e = p.smoothing;
        t.loss = ((1.0 - e) * softplus(-beta * d) - e * softplus(beta * d)) / (1.0 - 2.0 * e);
        t.dlpc = (-(1.0 - e) * beta * sigmoid(-beta * d) - e * beta * sigmoid(beta * d)) / (1.0 - 2.0 * e);
      }
      t.dlpr = -t.dlpc;
      t.rc = beta * dc;
      t.rr = beta * dr;
      t.logpc = lpc;
      t.logpr = lpr;
    }
    case 1u: { // IPO: (Δc/nc − Δr/nr − 1/(2β))²
      let dc = lpc - refc;
      let dr = lpr - refr;
      let h = dc / nc - dr / nr - 1.0 / (2.0 * beta);
      t.loss = h * h;
      t.dlpc = 2.0 * h / nc;
      t.dlpr = -2.0 * h / nr;
      t.rc = beta * dc;
      t.rr = beta * dr;
      t.logpc = lpc;
      t.logpr = lpr;
    }
    case 3u: { // SimPO: softplus(−(β(ac − ar) − γ)), a = log π / n
      let ac = lpc / nc;
      let ar = lpr / nr;
      let z = beta * (ac - ar) - p.gamma;
      let dz = -sigmoid(-z);
      t.loss = softplus(-z);
      t.dlpc = dz * beta / nc;
      t.dlpr = -dz * beta / nr;
      t.rc = beta * ac;
      t.rr = beta * ar;
      t.logpc = ac;
      t.logpr = ar;
    }
    case 5u: { // reward model: softplus(−(r⁺ − r⁻ − γ)), r = sums = −lpc
      let rc = -lpc;
      let rr = -lpr;
      let z = rc - rr - p.gamma;
      let g = sigmoid(-z);
      t.loss = softplus(-z);
      t.dlpc = g;
      t.dlpr = -g;
      t.rc = rc;
      t.rr = rr;
      t.logpc = rc;
      t.logpr = rr;
    }
    default: { // ORPO: λ·softplus(−lo), lo = (ac − ar) − (log(1 − e^ac) − log(1 − e^ar))
      let ac = min(lpc / nc, ORPO_MAX_LOGP);
      let ar = min(lpr / nr, ORPO_MAX_LOGP);
      let lo = ac - ar - (log1mexp(ac) - log1mexp(ar));
      let dlo = -beta * sigmoid(-lo);
      // ∂lo/∂ac = 1/(1 − e^ac), ∂lo/∂ar = −1/(1 − e^ar); a clamped average has no gradient
      t.loss = beta * softplus(-lo);
      t.dlpc = select(0.0, dlo / -expm1(ac) / nc, lpc / nc < ORPO_MAX_LOGP);
      t.dlpr = select(0.0, -dlo / -expm1(ar) / nr, lpr / nr < ORPO_MAX_LOGP);
      t.rc = beta * ac;
      t.rr = beta * ar;
      t.logpc = ac;
      t.logpr = ar;
    }
  }
  return t;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  for (var k = lid; k < p.P; k += WG) {
    let c = 2u * k;
    let r = c + 1u;
    if (!(counts[c] > 0.0 && counts[r] > 0.0)) {
      // a padding pair: no loss, no gradient
      grad[c] = 0.0;
      grad[r] = 0.0;
      continue;
    }
    let t = pairTerms(-sums[c], -sums[r], counts[c], counts[r], reference[c], reference[r]);
    a0 += vec4f(t.loss, t.rc, t.rr, t.rc - t.rr);
    a1 += vec4f(select(0.0, 1.0, t.rc > t.rr), t.logpc, t.logpr, 1.0);
    a2 += vec4f(sums[c], counts[c], 0.0, 0.0);
    // log π = −sums: the gradient with respect to sums is the negated one
    grad[c] = -t.dlpc;
    grad[r] = -t.dlpr;
  }
  acc0[lid] = a0;
  acc1[lid] = a1;
  acc2[lid] = a2;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      acc0[lid] += acc0[lid + s];
      acc1[lid] += acc1[lid + s];
      acc2[lid] += acc2[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let pairs = acc1[0].w;
    let tokens = acc2[0].y;
    let n = max(pairs, 1.0); // no pair: every mean is 0
    let nll = select(0.0, acc2[0].x / tokens, pairs > 0.0);
    stats[0] = acc0[0].x / n + select(0.0, nll, p.kind == 4u);
    stats[1] = acc0[0].y / n;
    stats[2] = acc0[0].z / n;
    stats[3] = acc0[0].w / n;
    stats[4] = acc1[0].x / n;
    stats[5] = acc1[0].y / n;
    stats[6] = acc1[0].z / n;
    stats[7] = nll;
    stats[8] = pairs;
    stats[9] = tokens;
  }
}

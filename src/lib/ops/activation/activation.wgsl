// Elementwise activation and its backward, the kind chosen by a uniform: relu, silu, gelu_tanh
// (GPT-2's gelu_new) or gelu_erf (exact GELU). Forward: out = f(inp). BACKWARD: dinp (+)= dout·f'(inp).
// Matches forward() and backward() in src/lib/ops/activation/reference.ts.

struct Params {
  N: u32,    // elements
  kind: u32, // 0 relu, 1 silu, 2 gelu_tanh, 3 gelu_erf (ACTIVATION_KINDS in activation.ts)
}

override WG: u32 = 256;
override BACKWARD: bool = false;
override ACCUMULATE: bool = false; // backward: add into dinp instead of overwriting it

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (N) f(inp), or dinp
@group(0) @binding(1) var<storage, read> dout: array<f32>;      // (N) backward only (the forward binds inp again)
@group(0) @binding(2) var<storage, read> inp: array<f32>;       // (N)
@group(0) @binding(3) var<uniform> p: Params;

const GELU_SCALE = 0.7978845608028654; // sqrt(2/pi)
const INV_SQRT2 = 0.7071067811865476;
const INV_SQRT_2PI = 0.3989422804014327;

// tanh through exp(-2|x|) <= 1: never inf/inf, whatever the platform's tanh does for large |x|.
fn tanh_stable(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}

// erf from erfc's Chebyshev fit (Numerical Recipes, erfcc): relative error of erfc below 1.2e-7.
fn erf(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
          t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
          t * (-0.82215223 + t * 0.17087277)))))))));
  return sign(x) * (1.0 - r);
}

fn activation(x: f32) -> f32 {
  switch (p.kind) {
    case 0u: { return max(x, 0.0); }
    case 1u: { return x / (1.0 + exp(-x)); }
    case 2u: { return 0.5 * x * (1.0 + tanh_stable(GELU_SCALE * (x + 0.044715 * x * x * x))); }
    default: { return 0.5 * x * (1.0 + erf(x * INV_SQRT2)); }
  }
}

fn derivative(x: f32) -> f32 {
  switch (p.kind) {
    case 0u: { return select(0.0, 1.0, x > 0.0); }
    case 1u: {
      let s = 1.0 / (1.0 + exp(-x));
      return s * (1.0 + x * (1.0 - s));
    }
    case 2u: {
      // 0.5(1+tanh u) + 0.5x(1-tanh²u)·u',  u = sqrt(2/pi)(x + 0.044715x³)
      let t = tanh_stable(GELU_SCALE * (x + 0.044715 * x * x * x));
      return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_SCALE * (1.0 + 3.0 * 0.044715 * x * x);
    }
    default: {
      // Φ(x) + x·φ(x)
      return 0.5 * (1.0 + erf(x * INV_SQRT2)) + x * exp(-0.5 * x * x) * INV_SQRT_2PI;
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid; // grid1d() folds large N into y
  if (i >= p.N) { return; }
  if (!BACKWARD) {
    out[i] = activation(inp[i]);
    return;
  }
  let d = dout[i] * derivative(inp[i]);
  if (ACCUMULATE) { out[i] += d; } else { out[i] = d; }
}

// AdamW update (torch.optim.AdamW, llm.c's adamw_kernel): one invocation per trainable parameter,
// over the one flat buffer that holds them all. Matches adamwStep() in src/lib/ops/adamw/reference.ts.
//   g = grad · clip_scale;  m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²
//   param = param·(1 - lr·wd) - lr · (m / bc1) / (sqrt(v / bc2) + eps),  bc_i = 1 - β_i^t
// With gradient stats (gradnorm.ts) the clip scale comes from the GPU, and a step whose gradients
// hold a NaN/Inf leaves everything untouched.

struct Params {
  N: u32,
  use_stats: u32,         // 1: read the clip scale / non-finite count from stats
  lr: f32,
  beta1: f32,
  beta2: f32,
  one_minus_beta1: f32,   // 1 - β1 and 1 - β2 computed in float64: f32(0.999) is not 0.999, and
  one_minus_beta2: f32,   // 1 - f32(0.999) would be off by 1.3e-5 relative (torch does it in double too)
  eps: f32,
  weight_decay: f32,
  bias_correction1: f32,  // 1 - β1^t (computed on the CPU in float64)
  bias_correction2: f32,  // 1 - β2^t
}

override WG: u32 = 256;

@group(0) @binding(0) var<storage, read_write> param: array<f32>; // (N) trainable parameters
@group(0) @binding(1) var<storage, read_write> m: array<f32>;     // (N) first moment
@group(0) @binding(2) var<storage, read_write> v: array<f32>;     // (N) second moment
@group(0) @binding(3) var<storage, read> grad: array<f32>;        // (N)
@group(0) @binding(4) var<storage, read> stats: array<f32>;       // (4) [norm, clip scale, non-finite, 0]
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.N) { return; }
  var scale = 1.0;
  if (p.use_stats != 0u) {
    if (stats[2] > 0.0) { return; } // non-finite gradients: skip the step
    scale = stats[1];
  }
  let g = grad[i] * scale;
  let mi = p.beta1 * m[i] + p.one_minus_beta1 * g;
  let vi = p.beta2 * v[i] + p.one_minus_beta2 * g * g;
  m[i] = mi;
  v[i] = vi;
  let m_hat = mi / p.bias_correction1;
  let v_hat = vi / p.bias_correction2;
  let decayed = param[i] * (1.0 - p.lr * p.weight_decay);
  param[i] = decayed - p.lr * m_hat / (sqrt(v_hat) + p.eps);
}

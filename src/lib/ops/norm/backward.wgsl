// Norm backward to the input, one workgroup per row (llm.c's derivation): with
// norm = (x-mean)·rstd and dnorm = weight·dout,  dinp (+)= rstd·(dnorm - mean(dnorm) - norm·mean(dnorm·norm)).
// RMSNorm has mean = 0 and no mean(dnorm) term. Matches dinp of backward() in src/lib/ops/norm/reference.ts.

struct Params {
  N: u32, // B*T rows
  C: u32, // channels
}

override WG: u32 = 128; // a power of two: the tree reduction halves it
override LAYERNORM: bool = true; // false: RMSNorm (mean is bound but never read)
// Gradients accumulate (llm.c): the input is the residual stream. false overwrites.
override ACCUMULATE: bool = true;

@group(0) @binding(0) var<storage, read_write> dinp: array<f32>; // (B,T,C)
@group(0) @binding(1) var<storage, read> dout: array<f32>;       // (B,T,C)
@group(0) @binding(2) var<storage, read> inp: array<f32>;        // (B,T,C)
@group(0) @binding(3) var<storage, read> weight: array<f32>;     // (C)
@group(0) @binding(4) var<storage, read> mean: array<f32>;       // (B,T) LayerNorm only
@group(0) @binding(5) var<storage, read> rstd: array<f32>;       // (B,T)
@group(0) @binding(6) var<uniform> p: Params;

var<workgroup> partial: array<vec2f, WG>;

// Component-wise sum of v over the workgroup, returned to every invocation.
fn workgroup_sum2(lid: u32, v: vec2f) -> vec2f {
  partial[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p.N) { return; }
  let x = row * p.C;
  var m = 0.0;
  if (LAYERNORM) { m = mean[row]; }
  let r = rstd[row];

  var sums = vec2f(0.0); // (Σ dnorm, Σ dnorm·norm)
  for (var i = lid; i < p.C; i += WG) {
    let norm = (inp[x + i] - m) * r;
    let dnorm = weight[i] * dout[x + i];
    sums += vec2f(dnorm, dnorm * norm);
  }
  var means = workgroup_sum2(lid, sums) / f32(p.C);
  if (!LAYERNORM) { means.x = 0.0; } // the mean is no function of x: no mean(dnorm) term

  for (var i = lid; i < p.C; i += WG) {
    let norm = (inp[x + i] - m) * r;
    let dnorm = weight[i] * dout[x + i];
    let d = r * (dnorm - means.x - norm * means.y);
    if (ACCUMULATE) { dinp[x + i] += d; } else { dinp[x + i] = d; }
  }
}

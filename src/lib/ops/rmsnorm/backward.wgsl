// RMSNorm backward to the input, one workgroup per row:
//   dinp_j (+)= rstd·w_j·dout_j - (rstd³·x_j/C)·Σ_i w_i·dout_i·x_i.  Matches backward() in reference.ts.

struct Params {
  N: u32, // B*T rows
  C: u32, // channels
}

override WG: u32 = 128; // a power of two: the tree reduction halves it
// Gradients accumulate (llm.c): the normalised stream's input is the residual stream, whose
// gradient sums over every path. false overwrites.
override ACCUMULATE: bool = true;

@group(0) @binding(0) var<storage, read_write> dinp: array<f32>; // (B,T,C)
@group(0) @binding(1) var<storage, read> dout: array<f32>;       // (B,T,C)
@group(0) @binding(2) var<storage, read> inp: array<f32>;        // (B,T,C)
@group(0) @binding(3) var<storage, read> weight: array<f32>;     // (C)
@group(0) @binding(4) var<storage, read> rstd: array<f32>;       // (B,T) from the forward pass
@group(0) @binding(5) var<uniform> p: Params;

var<workgroup> partial: array<f32, WG>;

fn workgroup_sum(lid: u32, v: f32) -> f32 {
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
  let r = rstd[row];

  var dot = 0.0; // Σ_i w_i·dout_i·x_i
  for (var i = lid; i < p.C; i += WG) {
    dot += weight[i] * dout[x + i] * inp[x + i];
  }
  let k = r * r * r * workgroup_sum(lid, dot) / f32(p.C);

  for (var i = lid; i < p.C; i += WG) {
    let d = r * weight[i] * dout[x + i] - k * inp[x + i];
    if (ACCUMULATE) { dinp[x + i] += d; } else { dinp[x + i] = d; }
  }
}

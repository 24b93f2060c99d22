// RMSNorm backward to the weight: dweight_i (+)= Σ_rows dout_i·x_i·rstd. One invocation owns one
// channel and loops over the B*T rows in order, so the sum is deterministic (WGSL has no float
// atomics). Matches dweight of backward() in src/lib/ops/rmsnorm/reference.ts.

struct Params {
  N: u32, // B*T rows
  C: u32, // channels
}

override WG: u32 = 64;
override ACCUMULATE: bool = true; // parameter gradients accumulate across micro-batches

@group(0) @binding(0) var<storage, read_write> dweight: array<f32>; // (C)
@group(0) @binding(1) var<storage, read> dout: array<f32>;          // (B,T,C)
@group(0) @binding(2) var<storage, read> inp: array<f32>;           // (B,T,C)
@group(0) @binding(3) var<storage, read> rstd: array<f32>;          // (B,T)
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= p.C) { return; }
  var acc = 0.0;
  for (var row = 0u; row < p.N; row++) {
    // neighbouring invocations read neighbouring channels of the same row
    acc += dout[row * p.C + i] * inp[row * p.C + i] * rstd[row];
  }
  if (ACCUMULATE) { dweight[i] += acc; } else { dweight[i] = acc; }
}

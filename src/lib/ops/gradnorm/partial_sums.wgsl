// Gradient norm, pass 1: each workgroup sums grads² over its grid-stride share of the flat gradient
// buffer and counts non-finite values. Matches gradStats() in src/lib/ops/gradnorm/reference.ts.
// The number of workgroups depends only on N, and sums use a fixed-order tree: deterministic.

struct Params {
  N: u32, // trainable parameters
}

override WG: u32 = 256; // a power of two

@group(0) @binding(0) var<storage, read_write> partials: array<f32>; // (G, 2): Σ g², non-finite count
@group(0) @binding(1) var<storage, read> grads: array<f32>;          // (N)
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> sq: array<f32, WG>;
var<workgroup> bad: array<u32, WG>;

// NaN and ±Inf are the values whose exponent bits are all ones. A bit test, because a compiler may
// assume floats are finite and fold isnan-style comparisons away.
fn is_nonfinite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  var n = 0u;
  for (var i = wid.x * WG + lid; i < p.N; i += nwg.x * WG) {
    let g = grads[i];
    if (is_nonfinite(g)) { n += 1u; } else { s += g * g; }
  }
  sq[lid] = s;
  bad[lid] = n;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      sq[lid] += sq[lid + stride];
      bad[lid] += bad[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    partials[2u * wid.x] = sq[0];
    partials[2u * wid.x + 1u] = f32(bad[0]);
  }
}

// Gradient norm, pass 2: adds the G partials (fixed order) into stats = [norm, clip scale,
// non-finite count, 0], read on the GPU by AdamW and read back with the loss.
// Matches gradStats() in src/lib/ops/gradnorm/reference.ts (torch.nn.utils.clip_grad_norm_).

struct Params {
  G: u32,        // partials (workgroups of pass 1)
  max_norm: f32, // clip to this global norm; <= 0 disables clipping (scale 1)
}

override WG: u32 = 256; // a power of two

@group(0) @binding(0) var<storage, read_write> stats: array<f32>; // (4)
@group(0) @binding(1) var<storage, read> partials: array<f32>;    // (G, 2)
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> sq: array<f32, WG>;
var<workgroup> bad: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  var n = 0.0;
  for (var j = lid; j < p.G; j += WG) {
    s += partials[2u * j];
    n += partials[2u * j + 1u];
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
    let norm = sqrt(sq[0]);
    var scale = 1.0;
    // torch: clip_coef = max_norm / (norm + 1e-6), clamped to at most 1.
    if (p.max_norm > 0.0) { scale = min(1.0, p.max_norm / (norm + 1e-6)); }
    stats[0] = norm;
    stats[1] = scale;
    stats[2] = bad[0];
    stats[3] = 0.0;
  }
}

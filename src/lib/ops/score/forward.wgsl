// Reward head forward: one workgroup per row r reduces inp[last[r], :] · weight into out[r] and marks
// whether the row has a last token (counts[r]). Matches forward() in src/lib/ops/score/reference.ts.

struct Params {
  R: u32, // rows
  C: u32, // hidden size
}

override WG: u32 = 64; // a power of two: the tree reduction halves it

@group(0) @binding(0) var<storage, read_write> out: array<f32>;    // (R) the rows' rewards
@group(0) @binding(1) var<storage, read_write> counts: array<f32>; // (R) 1 for a row with a last token, else 0
@group(0) @binding(2) var<storage, read> inp: array<f32>;          // (N,C) final-norm hidden states
@group(0) @binding(3) var<storage, read> weight: array<f32>;       // (C) score.weight (1,C)
@group(0) @binding(4) var<storage, read> last: array<i32>;         // (R) flat position of each row's last token, −1: none
@group(0) @binding(5) var<uniform> p: Params;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let r = wid.y * nwg.x + wid.x; // grid1d(R, 1) folds many rows into y
  if (r >= p.R) { return; }
  let n = last[r];
  var acc = 0.0;
  if (n >= 0) {
    let base = u32(n) * p.C;
    for (var c = lid; c < p.C; c += WG) { acc += inp[base + c] * weight[c]; }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    out[r] = partial[0];
    counts[r] = select(0.0, 1.0, n >= 0);
  }
}

// Reward head backward: thread c owns column c of dweight and of every row's last-token gradient,
//   dinp[last[r], c] += dout[r] · weight[c],  dweight[c] += Σ_r dout[r] · inp[last[r], c]
// so no two threads write one element. Matches backward() in src/lib/ops/score/reference.ts.

struct Params {
  R: u32, // rows
  C: u32, // hidden size
}

override WG: u32 = 256;

@group(0) @binding(0) var<storage, read_write> dinp: array<f32>;    // (N,C) added to
@group(0) @binding(1) var<storage, read_write> dweight: array<f32>; // (C) added to
@group(0) @binding(2) var<storage, read> dout: array<f32>;          // (R)
@group(0) @binding(3) var<storage, read> inp: array<f32>;           // (N,C)
@group(0) @binding(4) var<storage, read> weight: array<f32>;        // (C)
@group(0) @binding(5) var<storage, read> last: array<i32>;          // (R)
@group(0) @binding(6) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let c = (wid.y * nwg.x + wid.x) * WG + lid;
  if (c >= p.C) { return; }
  var dw = 0.0;
  for (var r = 0u; r < p.R; r++) {
    let n = last[r];
    if (n < 0) { continue; }
    let i = u32(n) * p.C + c;
    dinp[i] += dout[r] * weight[c];
    dw += dout[r] * inp[i];
  }
  dweight[c] += dw;
}

// Segment sums backward: every compacted entry takes its row's gradient,
//   dlosses[j] = dsums[rows[j] / T]  (overwrites). Matches backward() in src/lib/ops/segmentsum/reference.ts.

struct Params {
  M: u32, // compacted entries
  T: u32, // positions per row
}

override WG: u32 = 256;

@group(0) @binding(0) var<storage, read_write> dlosses: array<f32>; // (M)
@group(0) @binding(1) var<storage, read> dsums: array<f32>;         // (R)
@group(0) @binding(2) var<storage, read> rows: array<i32>;          // (M) flat positions b·T+t
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let j = (wid.y * nwg.x + wid.x) * WG + lid;
  if (j >= p.M) { return; }
  dlosses[j] = dsums[u32(rows[j]) / p.T];
}

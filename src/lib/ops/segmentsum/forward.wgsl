// Segment sums forward: one workgroup per row r sums the compacted entries whose flat position
// rows[j] = b·T+t falls in row r (a contiguous run, since rows ascend), and counts them.
// Matches forward() in src/lib/ops/segmentsum/reference.ts.

struct Params {
  M: u32, // compacted entries (counted positions)
  R: u32, // rows (B)
  T: u32, // positions per row
}

override WG: u32 = 64; // a power of two: the tree reduction halves it

@group(0) @binding(0) var<storage, read_write> sums: array<f32>;   // (R)
@group(0) @binding(1) var<storage, read_write> counts: array<f32>; // (R) exact up to 2^24
@group(0) @binding(2) var<storage, read> losses: array<f32>;       // (M)
@group(0) @binding(3) var<storage, read> rows: array<i32>;         // (M) ascending flat positions
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> partial: array<f32, WG>;

// The first entry whose position is at least `x` (M when there is none): binary search.
fn lowerBound(x: u32) -> u32 {
  var lo = 0u;
  var hi = p.M;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (u32(rows[mid]) < x) { lo = mid + 1u; } else { hi = mid; }
  }
  return lo;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let r = wid.y * nwg.x + wid.x; // grid1d(R, 1) folds many rows into y
  if (r >= p.R) { return; }
  let start = lowerBound(r * p.T);
  let end = lowerBound((r + 1u) * p.T);
  var acc = 0.0;
  for (var j = start + lid; j < end; j += WG) { acc += losses[j]; }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    sums[r] = partial[0];
    counts[r] = f32(end - start);
  }
}

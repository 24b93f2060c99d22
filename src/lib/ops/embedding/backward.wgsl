// Embedding backward, token part: dwte[v,:] += Σ over positions bt with ids[bt] = v of dout[bt,:].
// Matches backward() in src/lib/ops/embedding/reference.ts.
//
// WGSL has no float atomics, so (as llm.c's encoder_backward) the CPU, which has the ids anyway,
// groups positions by token (tokenBuckets() in embedding.ts): one workgroup per distinct token sums
// that token's dout rows in position order, its invocations spread over the channels. Each dwte row
// has exactly one owner; results are deterministic; work is O(B·T·C) whatever the vocabulary size.

struct Params {
  U: u32, // distinct tokens (buckets)
  C: u32,
}

override WG: u32 = 64;

@group(0) @binding(0) var<storage, read_write> dwte: array<f32>;  // (V,C)
@group(0) @binding(1) var<storage, read> dout: array<f32>;        // (B,T,C)
@group(0) @binding(2) var<storage, read> bucket_ids: array<i32>;  // (U) the token of each bucket
@group(0) @binding(3) var<storage, read> starts: array<i32>;      // (U+1) bucket u is positions[starts[u]..starts[u+1])
@group(0) @binding(4) var<storage, read> positions: array<i32>;   // (B*T) flat positions bt, grouped by token
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let u = wid.y * nwg.x + wid.x; // one workgroup per bucket
  if (u >= p.U) { return; }
  let row = u32(bucket_ids[u]) * p.C;
  let first = starts[u];
  let last = starts[u + 1u];
  for (var c = lid; c < p.C; c += WG) {
    var s = 0.0;
    for (var j = first; j < last; j++) { s += dout[u32(positions[j]) * p.C + c]; }
    dwte[row + c] += s;
  }
}

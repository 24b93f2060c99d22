// Embedding backward into one chunk of a table's gradient: dtable[row,:] += Σ dout[n,:] over the ids n
// that looked row up. Matches backward() in src/lib/ops/embedding/reference.ts.
//
// WGSL has no float atomics, so (as llm.c's encoder_backward) the CPU, which has the ids anyway,
// groups the positions by row (groupRows() in embedding.ts): each group is summed in position order
// by the invocations of one workgroup row, spread over the channels. Every dtable row has exactly one
// owner; results are deterministic; work is O(N·C) whatever the table size.

struct Params {
  U: u32,         // groups (distinct rows) in this chunk
  C: u32,
  row_start: u32, // first table row held by this chunk
}

override WG: u32 = 64;

@group(0) @binding(0) var<storage, read_write> dtable: array<f32>; // (rows,C)
@group(0) @binding(1) var<storage, read> dout: array<f32>;         // (N,C)
@group(0) @binding(2) var<storage, read> rows: array<u32>;         // (U) table row of group u
@group(0) @binding(3) var<storage, read> starts: array<u32>;       // (U+1) group u = order[starts[u]..starts[u+1])
@group(0) @binding(4) var<storage, read> order: array<u32>;        // (N) positions n grouped by row
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let u = wid.z * nwg.y + wid.y; // groups fold into z past 65535
  let c = wid.x * WG + lid;
  if (u >= p.U || c >= p.C) { return; }
  var s = 0.0;
  for (var j = starts[u]; j < starts[u + 1u]; j++) { s += dout[order[j] * p.C + c]; }
  let r = rows[u] - p.row_start;
  dtable[r * p.C + c] += s;
}

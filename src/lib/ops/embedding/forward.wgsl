// Embedding lookup into one chunk of a table: out[n,:] (+)= table[idx[n] + idx_offset - row_start, :]
// for the n whose row this chunk holds (row_start .. row_start+rows-1); other rows of out are left
// alone. Matches forward() in src/lib/ops/embedding/reference.ts.
//
// Token rows write (ACCUMULATE false); learned positions (GPT-2's wpe) then add theirs (true). The
// same kernel gathers arbitrary rows of a (rows,C) tensor (gatherRows in embedding.ts). The table is
// read as raw u32 words: f32 bits, or (TABLE_F16) packed halves, element i in word i>>1, even i low.

struct Params {
  N: u32,          // ids (B*T)
  C: u32,
  row_start: u32,  // first table row held by this chunk
  rows: u32,       // rows held by this chunk
  idx_offset: i32, // added to every index (positions: prefix length + cached tokens)
}

override WG: u32 = 256;
override ACCUMULATE: bool = false;
override TABLE_F16: bool = false; // table stored as packed f16 (frozen base weights); math in f32

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (N,C)
@group(0) @binding(1) var<storage, read> idx: array<i32>;       // (N)
@group(0) @binding(2) var<storage, read> table: array<u32>;     // (rows,C) f32 bits or packed f16
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid; // grid1d() folds large N·C into y
  if (i >= p.N * p.C) { return; }
  let n = i / p.C;
  let c = i % p.C;
  let row = idx[n] + p.idx_offset - i32(p.row_start);
  if (row < 0 || row >= i32(p.rows)) { return; }
  let e = u32(row) * p.C + c;
  var x: f32;
  if (TABLE_F16) { x = unpack2x16float(table[e >> 1u])[e & 1u]; } else { x = bitcast<f32>(table[e]); }
  if (ACCUMULATE) { out[i] += x; } else { out[i] = x; }
}

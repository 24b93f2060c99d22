// Strided 2-D copy: out[m, col_out + n] = inp[m, col_in + n] for m < M, n < N, with row strides
// ld_out and ld_in. Moves a column block of logits in or out of a (rows, V) tensor when lm_head is
// stored in several row chunks (params.ts), each chunk producing a block of vocabulary columns.

struct Params {
  M: u32,
  N: u32,
  ld_out: u32,
  ld_in: u32,
  col_out: u32,
  col_in: u32,
}

override WG: u32 = 256;

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (M, ld_out)
@group(0) @binding(1) var<storage, read> inp: array<f32>;       // (M, ld_in)
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.M * p.N) { return; }
  let m = i / p.N;
  let n = i % p.N;
  out[m * p.ld_out + p.col_out + n] = inp[m * p.ld_in + p.col_in + n];
}

// f16 → f32 decode: out[out_offset + i] = f32(inp element in_offset + i) for i < N, where inp holds
// packed halves (element e in u32 word e>>1, even e in the low half). Matches forward() in
// src/lib/ops/f16/reference.ts. Copies frozen f16 base weights into f32 stores (full fine-tuning's
// trainable copy, merged LoRA weights); the offsets let a range start mid-word or mid-chunk.

struct Params {
  N: u32,          // values to decode
  out_offset: u32, // first element of out written
  in_offset: u32,  // first element of inp read (any parity)
}

override WG: u32 = 256;

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (≥ out_offset + N)
@group(0) @binding(1) var<storage, read> inp: array<u32>;       // (≥ in_offset + N) packed f16
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid; // grid1d() folds large N into y
  if (i >= p.N) { return; }
  let e = p.in_offset + i;
  out[p.out_offset + i] = unpack2x16float(inp[e >> 1u])[e & 1u];
}

// Embedding forward: out[b,t,:] = wte[ids[b,t], :] (+ wpe[pos0 + t, :] for learned positions).
// Matches forward() in src/lib/ops/embedding/reference.ts. An id outside [0, V) gives a zero row.

struct Params {
  BT: u32,      // B*T
  T: u32,
  C: u32,
  V: u32,
  has_pos: u32, // 1: add wpe (GPT-2)
  pos0: u32,    // position of t = 0 (tokens already in the KV cache)
}

override WG: u32 = 256;

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (B,T,C)
@group(0) @binding(1) var<storage, read> ids: array<i32>;       // (B,T)
@group(0) @binding(2) var<storage, read> wte: array<f32>;       // (V,C)
@group(0) @binding(3) var<storage, read> wpe: array<f32>;       // (maxT,C); any 1 value if has_pos = 0
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.BT * p.C) { return; }
  let bt = i / p.C;
  let c = i % p.C;
  let id = ids[bt];
  var v = 0.0;
  if (id >= 0 && u32(id) < p.V) { v = wte[u32(id) * p.C + c]; }
  if (p.has_pos != 0u) { v += wpe[(p.pos0 + bt % p.T) * p.C + c]; }
  out[i] = v;
}

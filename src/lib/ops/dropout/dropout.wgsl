// Dropout (PEFT's lora_dropout on a LoRA branch's input): out (+)= inp · keep / (1 - p), keep a hash
// of (seed, element index). Matches forward() and backward() in src/lib/ops/dropout/reference.ts.
//
// One kernel for both passes: the map is linear with a diagonal Jacobian keep/(1-p), so the backward
// is the same mask and scale applied to dout, added into dinp (ACCUMULATE). No mask is stored; the
// backward recomputes it from the seed.

struct Params {
  N: u32,    // elements
  seed: u32, // one per (step, micro-batch, projection)
  p: f32,    // drop probability, 0 <= p < 1
}

override WG: u32 = 256;
override ACCUMULATE: bool = false; // forward: false (out =); backward: true (dinp +=)

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (B*T, in) out, or dinp
@group(0) @binding(1) var<storage, read> inp: array<f32>;       // (B*T, in) inp, or dout
@group(0) @binding(2) var<uniform> p: Params;

// PCG hash (Jarzynski & Olano 2020): a well-mixed u32 from a u32.
fn pcg(x: u32) -> u32 {
  let state = x * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid; // grid1d() folds large N into y
  if (i >= p.N) { return; }
  let u = f32(pcg(i ^ pcg(p.seed)) >> 8u) / 16777216.0; // uniform in [0,1), 24 bits
  let y = select(0.0, inp[i] / (1.0 - p.p), u >= p.p);
  if (ACCUMULATE) { out[i] += y; } else { out[i] = y; }
}

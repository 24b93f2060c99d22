// Residual backward: d(inp1 + inp2)/dinp = identity, so dinp1 += dout and dinp2 += dout
// (or = dout when ACCUMULATE is false). Matches backward() in src/lib/ops/residual/reference.ts.

struct Params {
  N: u32, // B*T*C
}

override WG: u32 = 256;
// Gradients accumulate (llm.c): a residual stream's gradient is the sum over every path.
override ACCUMULATE: bool = true;

@group(0) @binding(0) var<storage, read_write> dinp1: array<f32>; // (B,T,C)
@group(0) @binding(1) var<storage, read_write> dinp2: array<f32>; // (B,T,C)
@group(0) @binding(2) var<storage, read> dout: array<f32>;        // (B,T,C)
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.N) { return; }
  let d = dout[i];
  if (ACCUMULATE) {
    dinp1[i] += d;
    dinp2[i] += d;
  } else {
    dinp1[i] = d;
    dinp2[i] = d;
  }
}

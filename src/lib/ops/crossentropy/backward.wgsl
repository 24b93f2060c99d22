// Softmax cross-entropy backward, IN PLACE (llm.c): each row of logits is overwritten with
//   dlogits = (softmax(logits) - onehot(target))·dlosses[row],  0 on rows whose target is -100.
// softmax = exp(logits - lse) from the forward's lse; no probability tensor exists. One workgroup
// per row. Matches backward() in src/lib/ops/crossentropy/reference.ts.

struct Params {
  N: u32, // B*T rows
  V: u32, // vocabulary size
}

override WG: u32 = 256;

@group(0) @binding(0) var<storage, read_write> logits: array<f32>; // (B,T,V) in: logits, out: dlogits
@group(0) @binding(1) var<storage, read> targets: array<i32>;      // (B,T), -100 = no loss
@group(0) @binding(2) var<storage, read> lse: array<f32>;          // (B,T) from the forward pass
@group(0) @binding(3) var<storage, read> dlosses: array<f32>;      // (B,T) d(objective)/d(losses)
@group(0) @binding(4) var<uniform> p: Params;

const IGNORE_INDEX = -100;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p.N) { return; }
  let x = row * p.V;
  let tgt = targets[row];
  if (tgt == IGNORE_INDEX) {
    // the forward skipped this row (lse is not its logsumexp): its gradient is exactly zero
    for (var v = lid; v < p.V; v += WG) { logits[x + v] = 0.0; }
    return;
  }
  let l = lse[row];
  let d = dlosses[row];
  for (var v = lid; v < p.V; v += WG) {
    let prob = exp(logits[x + v] - l);
    let indicator = select(0.0, 1.0, i32(v) == tgt);
    logits[x + v] = (prob - indicator) * d;
  }
}

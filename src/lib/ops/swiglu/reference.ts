// SwiGLU (Llama/Qwen2 MLP), plain loops in float64: out = silu(gate)·up with silu(g) = g·sigmoid(g),
// where gate and up are the outputs of gate_proj and up_proj. (N) is any flattening, e.g. B·T·I.

export interface SwigluCache {
  gate: Float64Array; // (N)
  up: Float64Array; // (N)
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function forward(
  gate: Float64Array, // (N)
  up: Float64Array, // (N)
): { out: Float64Array; cache: SwigluCache } {
  const out = new Float64Array(gate.length); // (N)
  for (let i = 0; i < gate.length; i++) out[i] = gate[i] * sigmoid(gate[i]) * up[i];
  return { out, cache: { gate, up } };
}

// d silu(g)/dg = s + g·s·(1-s) = s·(1 + g·(1-s)) with s = sigmoid(g).
export function backward(
  dout: Float64Array, // (N)
  cache: SwigluCache,
): { dgate: Float64Array; dup: Float64Array } {
  const { gate, up } = cache;
  const dgate = new Float64Array(gate.length); // (N)
  const dup = new Float64Array(gate.length); // (N)
  for (let i = 0; i < gate.length; i++) {
    const s = sigmoid(gate[i]);
    dgate[i] = dout[i] * up[i] * s * (1 + gate[i] * (1 - s));
    dup[i] = dout[i] * gate[i] * s;
  }
  return { dgate, dup };
}

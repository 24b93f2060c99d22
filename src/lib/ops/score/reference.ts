// The sequence-classification head with one label (transformers' *ForSequenceClassification "score"
// with num_labels 1, no bias), plain loops in float64: each row's reward is the final hidden state of
// its LAST token times the head's weight,
//   out[r]    = Σ_c inp[last[r], c] · weight[c]      last[r]: flat position b·T+t of row r's last
//                                                     real token, or −1 for a row with none (padding)
//   counts[r] = 1 if row r has a last token, else 0  (what the pairwise loss reads as "this row counts")
// backward, from dout (R):
//   dinp[last[r], c] += dout[r] · weight[c]          only the last token of each row gets a gradient
//   dweight[c]       += Σ_r dout[r] · inp[last[r], c]
// (a row without a last token contributes nothing).

export interface ScoreCache {
  inp: Float64Array; // (N,C)
  weight: Float64Array; // (C)
  last: Int32Array; // (R)
  C: number;
}

export function forward(
  inp: Float64Array, // (N,C)
  weight: Float64Array, // (C)
  last: Int32Array, // (R)
): { out: Float64Array; counts: Float64Array; cache: ScoreCache } {
  const C = weight.length;
  const R = last.length;
  const out = new Float64Array(R);
  const counts = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    if (last[r] < 0) continue;
    let acc = 0;
    for (let c = 0; c < C; c++) acc += inp[last[r] * C + c] * weight[c];
    out[r] = acc;
    counts[r] = 1;
  }
  return { out, counts, cache: { inp, weight, last, C } };
}

export function backward(dout: Float64Array, cache: ScoreCache): { dinp: Float64Array; dweight: Float64Array } {
  const { inp, weight, last, C } = cache;
  const dinp = new Float64Array(inp.length);
  const dweight = new Float64Array(C);
  last.forEach((n, r) => {
    if (n < 0) return;
    for (let c = 0; c < C; c++) {
      dinp[n * C + c] += dout[r] * weight[c];
      dweight[c] += dout[r] * inp[n * C + c];
    }
  });
  return { dinp, dweight };
}

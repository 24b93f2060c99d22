#!/usr/bin/env python3
"""Independent reference for src/lib/eval/metrics.ts (plain Python, float64).

Reads JSON from stdin:
  {"texts": [{"prediction": str, "reference": str}, ...],
   "sequences": [{"V": int, "logits": [float, ...] (T*V), "targets": [int, ...] (T, -100 = not counted)}, ...]}
Prints JSON:
  {"texts": [{"exact_match", "rouge_l", "chrf"}, ...], "sequences": [{"loss_sum", "tokens", "correct"}, ...]}

Written from the metrics' definitions, not from the TypeScript: rouge_score's tokenizer and LCS table
(rouge_scorer._score_lcs), sacrebleu's CHRF (char_order=6, word_order=0, beta=2, whitespace removed,
eps_smoothing=False), exact match after whitespace normalisation, and cross-entropy / argmax
accuracy over the counted positions (torch.argmax takes the first maximum).
"""
import collections
import json
import math
import re
import sys


def normalize(s):
    return " ".join(s.split())


def rouge_tokens(s):
    # rouge_score.tokenize: lower case, replace non-alphanumerics by spaces, split.
    return [t for t in re.sub(r"[^a-z0-9]+", " ", s.lower()).split() if t]


def lcs_table(a, b):
    rows, cols = len(a), len(b)
    table = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            if a[i - 1] == b[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    return table[rows][cols]


def rouge_l(prediction, reference):
    target, pred = rouge_tokens(reference), rouge_tokens(prediction)
    if not target or not pred:
        return 0.0
    lcs = lcs_table(target, pred)
    precision, recall = lcs / len(pred), lcs / len(target)
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def char_ngrams(s, n):
    return collections.Counter(s[i:i + n] for i in range(len(s) - n + 1))


def chrf(prediction, reference, order=6, beta=2):
    hyp, ref = "".join(prediction.split()), "".join(reference.split())
    eps = 1e-16
    factor = beta ** 2
    avg_prec = avg_rec = 0.0
    effective = 0
    for n in range(1, order + 1):
        h, r = char_ngrams(hyp, n), char_ngrams(ref, n)
        n_hyp, n_ref = sum(h.values()), sum(r.values())
        n_match = sum((h & r).values())
        avg_prec += n_match / n_hyp if n_hyp > 0 else eps
        avg_rec += n_match / n_ref if n_ref > 0 else eps
        effective += n_hyp > 0 and n_ref > 0
    if effective == 0:
        return 0.0
    avg_prec /= effective
    avg_rec /= effective
    if avg_prec + avg_rec == 0:
        return 0.0
    return 100 * (1 + factor) * avg_prec * avg_rec / (factor * avg_prec + avg_rec)


def sequence(V, logits, targets):
    loss_sum, tokens, correct = 0.0, 0, 0
    for t, target in enumerate(targets):
        if target == -100:
            continue
        row = logits[t * V:(t + 1) * V]
        best = max(range(V), key=lambda v: (row[v], -v))
        m = max(row)
        log_z = m + math.log(sum(math.exp(x - m) for x in row))
        loss_sum += log_z - row[target]
        tokens += 1
        correct += best == target
    return {"loss_sum": loss_sum, "tokens": tokens, "correct": correct}


def main():
    data = json.load(sys.stdin)
    out = {
        "texts": [
            {
                "exact_match": int(normalize(x["prediction"]) == normalize(x["reference"])),
                "rouge_l": rouge_l(x["prediction"], x["reference"]),
                "chrf": chrf(x["prediction"], x["reference"]),
            }
            for x in data["texts"]
        ],
        "sequences": [sequence(s["V"], s["logits"], s["targets"]) for s in data["sequences"]],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""A PyTorch replica of tests/gpu/pretrain.test.ts's run, to choose its settings off the GPU: the same
byte-level ~100k-parameter Llama (models/recipe/model.py), the same 60,000 characters of the Brown slice
split 90/10 by paragraph and packed into rows of 64 with a 0 byte after each paragraph, AdamW with
nanoGPT's cosine schedule (warm-up, then down to a tenth), gradient clipping at 1.

    /usr/bin/python3 tests/python/pretrain_replica.py LR STEPS BATCH [SEED]

prints the unigram entropy of the training targets and the validation loss every 50 steps. The engine's
initialisation and batch order differ (its own RNG), so read it as the spread to expect, not the number."""
import math
import os
import sys

import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(__file__), '..', '..')
sys.path.insert(0, os.path.join(ROOT, 'models', 'recipe'))
from model import build  # noqa: E402

T, WARMUP, VOCAB = 64, 20, 256


def rows(paragraphs, max_tokens):
    ids = []
    for p in (p.strip() for p in '\n\n'.join(paragraphs).split('\n\n')):
        if p:
            ids += list(p.encode()) + [0]
        if len(ids) >= max_tokens + T:
            break
    n = min((len(ids) - 1) // T, max_tokens // T)
    x = torch.tensor([ids[i * T:(i + 1) * T] for i in range(n)])
    y = torch.tensor([ids[i * T + 1:(i + 1) * T + 1] for i in range(n)])
    return x, y


def main():
    lr, steps, batch = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    torch.manual_seed(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    text = open(os.path.join(ROOT, 'static', 'corpus', 'brown-heldout.txt')).read()[:60000]
    paragraphs = text.split('\n\n')
    cut = int(len(paragraphs) * 0.9)
    xt, yt = rows(paragraphs[:cut], 10 ** 9)
    xv, yv = rows(paragraphs[cut:], 4096)
    counts = torch.bincount(yt.flatten(), minlength=VOCAB).double()
    p = counts[counts > 0] / counts.sum()
    model = build(dict(model_type='llama', vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=2, intermediate_size=172, max_position_embeddings=128, rms_norm_eps=1e-5,
                       rope_theta=10000.0, tie_word_embeddings=True))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)

    def rate(s):
        if s < WARMUP:
            return (s + 1) / WARMUP
        return 0.1 + 0.45 * (1 + math.cos(math.pi * (s - WARMUP) / max(1, steps - WARMUP)))

    def validation():
        with torch.no_grad():
            return F.cross_entropy(model(xv)[0].reshape(-1, VOCAB), yv.flatten()).item()

    print(f'{len(xt)} training rows; unigram entropy {-(p * p.log()).sum().item():.3f}; validation {validation():.3f}')
    g = torch.Generator().manual_seed(0)
    for s in range(steps):
        for group in opt.param_groups:
            group['lr'] = lr * rate(s)
        i = torch.randint(0, len(xt), (batch,), generator=g)
        loss = F.cross_entropy(model(xt[i])[0].reshape(-1, VOCAB), yt[i].flatten())
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if (s + 1) % 50 == 0:
            print(f'step {s + 1}: batch {loss.item():.3f}, validation {validation():.3f}')


if __name__ == '__main__':
    main()

"""Step 2: pretrain the default model from scratch on the Brown corpus (CPU, float32).

Random (B, T+1) windows of the training stream; AdamW, linear warmup then cosine decay, global grad
clipping at 1. Validation loss is measured on fixed windows of the held-out stream. Writes
work/ckpt.pt and work/train_log.json (numbers for the model card).
Usage: python3 pretrain.py [--steps N]
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch

from common import CONFIG, WORK, ensure_dirs
from model import LlamaForCausalLM, masked_loss

B, T = 16, 256
LR, MIN_LR, WARMUP, WD = 3e-3, 1e-4, 100, 0.1
SEED = 1337


def lr_at(step, steps):
    if step < WARMUP:
        return LR * (step + 1) / WARMUP
    p = (step - WARMUP) / max(1, steps - WARMUP)
    return MIN_LR + 0.5 * (LR - MIN_LR) * (1 + math.cos(math.pi * p))


def valid_loss(model, valid, n_batches=8):
    model.eval()
    g = torch.Generator().manual_seed(0)
    losses = []
    with torch.no_grad():
        for _ in range(n_batches):
            ix = torch.randint(0, len(valid) - T - 1, (B,), generator=g)
            x = torch.stack([valid[i:i + T] for i in ix])
            y = torch.stack([valid[i + 1:i + T + 1] for i in ix])
            losses.append(masked_loss(model(x)[0], y).item())
    model.train()
    return sum(losses) / len(losses)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=1000)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    ensure_dirs()
    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    tokens = np.load(os.path.join(WORK, 'tokens.npz'))
    train = torch.from_numpy(tokens['train'].astype(np.int64))
    valid = torch.from_numpy(tokens['valid'].astype(np.int64))
    model = LlamaForCausalLM(CONFIG)
    # GPT-2 style scaled init of the residual projections.
    for n, p in model.named_parameters():
        if n.endswith('o_proj.weight') or n.endswith('down_proj.weight'):
            torch.nn.init.normal_(p, std=0.02 / math.sqrt(2 * CONFIG['num_hidden_layers']))
    n_params = sum(p.numel() for p in model.parameters())
    print('parameters', n_params)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': WD}, {'params': no_decay, 'weight_decay': 0.0}],
                            lr=LR, betas=(0.9, 0.95), eps=1e-8)
    g = torch.Generator().manual_seed(SEED)
    log = {'parameters': n_params, 'batch': B, 'seq_len': T, 'steps': args.steps, 'train_tokens_available': len(train),
           'valid_tokens': len(valid), 'history': []}
    t0 = time.time()
    for step in range(args.steps):
        for group in opt.param_groups:
            group['lr'] = lr_at(step, args.steps)
        ix = torch.randint(0, len(train) - T - 1, (B,), generator=g)
        x = torch.stack([train[i:i + T] for i in ix])
        y = torch.stack([train[i + 1:i + T + 1] for i in ix])
        loss = masked_loss(model(x)[0], y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 10 == 0 or step == args.steps - 1:
            el = time.time() - t0
            print(f'step {step} loss {loss.item():.4f} lr {lr_at(step, args.steps):.2e} {((step + 1) * B * T) / el:.0f} tok/s', flush=True)
        if step % 100 == 99 or step == args.steps - 1:
            vl = valid_loss(model, valid)
            log['history'].append({'step': step + 1, 'train_loss': loss.item(), 'valid_loss': vl, 'seconds': time.time() - t0})
            print(f'  valid loss {vl:.4f}', flush=True)
            torch.save(model.state_dict(), os.path.join(WORK, 'ckpt.pt'))
            log['tokens_seen'] = (step + 1) * B * T
            log['seconds'] = time.time() - t0
            with open(os.path.join(WORK, 'train_log.json'), 'w') as f:
                json.dump(log, f, indent=2)
    log['final_train_loss'] = valid_loss(model, train[: len(valid)])
    log['final_valid_loss'] = valid_loss(model, valid)
    log['tokens_seen'] = args.steps * B * T
    log['seconds'] = time.time() - t0
    with open(os.path.join(WORK, 'train_log.json'), 'w') as f:
        json.dump(log, f, indent=2)
    torch.save(model.state_dict(), os.path.join(WORK, 'ckpt.pt'))
    print('final', log['final_train_loss'], log['final_valid_loss'])


if __name__ == '__main__':
    main()

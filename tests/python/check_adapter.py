#!/usr/bin/env python3
"""Rebuilds tuned logits from the base weights plus an exported PEFT adapter, independently of the
WGSL engine (plain numpy, float64), and compares them with the logits the engine produced.

    python3 tests/python/check_adapter.py --model models/brown-llama-4m --adapter DIR_OR_ZIP \
        --logits engine_logits.safetensors [--tol 1e-3]

`--logits` holds `input_ids` (B,T) and `logits` (B,T,V) from the engine with the adapter attached.
The adapter is a PEFT folder or .zip (adapter_config.json + adapter_model.safetensors): LORA,
PREFIX_TUNING, or this project's BOTTLENECK. `--selftest` checks this implementation itself against
the PyTorch fixture tests/fixtures/forward.safetensors. Exit status 0 when within tolerance.
Needs only python3-numpy.
"""
import argparse
import io
import json
import math
import os
import struct
import sys
import zipfile

import numpy as np

DT = {'F32': np.float32, 'F16': np.float16, 'I32': np.int32, 'I64': np.int64}


def read_safetensors(data):
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        a, b = info['data_offsets']
        raw = data[base + a: base + b]
        if info['dtype'] == 'BF16':
            bits = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=DT[info['dtype']])
        out[name] = arr.reshape(info['shape']).astype(np.float64 if arr.dtype.kind == 'f' else np.int64)
    return out


def read_adapter(path):
    if os.path.isdir(path):
        cfg = json.load(open(os.path.join(path, 'adapter_config.json')))
        weights = read_safetensors(open(os.path.join(path, 'adapter_model.safetensors'), 'rb').read())
    else:
        with zipfile.ZipFile(path) as z:
            names = {os.path.basename(n): n for n in z.namelist()}
            cfg = json.loads(z.read(names['adapter_config.json']))
            weights = read_safetensors(z.read(names['adapter_model.safetensors']))
    return cfg, weights


def rmsnorm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def silu(x):
    return x / (1 + np.exp(-x))


ACTS = {'relu': lambda x: np.maximum(x, 0), 'silu': silu,
        'gelu': lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))}


def llama_logits(config, W, ids, adapter=None):
    """Logits (B,T,V) of a Llama/Qwen2 model with an optional adapter (cfg, weights)."""
    cfg, A = adapter if adapter else ({}, {})
    kind = cfg.get('peft_type')
    C, L = config['hidden_size'], config['num_hidden_layers']
    NH, NKV = config['num_attention_heads'], config['num_key_value_heads']
    HS = config.get('head_dim') or C // NH
    eps = config['rms_norm_eps']
    pre = 'base_model.model.'

    def lin(x, name):
        y = x @ W[name + '.weight'].T
        if name + '.bias' in W:
            y = y + W[name + '.bias']
        if kind == 'LORA' and f'{pre}{name}.lora_A.weight' in A:
            r = A[f'{pre}{name}.lora_A.weight'].shape[0]
            alpha = cfg['lora_alpha']
            scale = alpha / math.sqrt(r) if cfg.get('use_rslora') else alpha / r
            y = y + (x @ A[f'{pre}{name}.lora_A.weight'].T) @ A[f'{pre}{name}.lora_B.weight'].T * scale
        return y

    def bottleneck(y, name):
        if kind != 'BOTTLENECK' or f'{pre}{name}.adapter.down.weight' not in A:
            return y
        h = y @ A[f'{pre}{name}.adapter.down.weight'].T + A[f'{pre}{name}.adapter.down.bias']
        h = ACTS[cfg.get('non_linearity', 'relu')](h)
        return y + h @ A[f'{pre}{name}.adapter.up.weight'].T + A[f'{pre}{name}.adapter.up.bias']

    B, T = ids.shape
    P = 0
    if kind == 'PREFIX_TUNING':
        pe = A['prompt_embeddings']
        P = pe.shape[0]
        pe = pe.reshape(P, L * 2, NKV, HS)
    x = W['model.embed_tokens.weight'][ids]
    pos = np.arange(T) + P
    inv = 1.0 / (config.get('rope_theta', 10000.0) ** (np.arange(0, HS, 2) / HS))
    ang = pos[:, None] * inv[None]
    cos = np.cos(np.concatenate([ang, ang], -1))[None, :, None]
    sin = np.sin(np.concatenate([ang, ang], -1))[None, :, None]

    def rope(t):
        h = HS // 2
        return t * cos + np.concatenate([-t[..., h:], t[..., :h]], -1) * sin

    causal = np.tril(np.ones((T, T), dtype=bool))
    allowed = np.concatenate([np.ones((T, P), dtype=bool), causal], 1)
    for l in range(L):
        p = f'model.layers.{l}.'
        h = rmsnorm(x, W[p + 'input_layernorm.weight'], eps)
        q = rope(lin(h, p + 'self_attn.q_proj').reshape(B, T, NH, HS))
        k = rope(lin(h, p + 'self_attn.k_proj').reshape(B, T, NKV, HS))
        v = lin(h, p + 'self_attn.v_proj').reshape(B, T, NKV, HS)
        if P:
            k = np.concatenate([np.broadcast_to(pe[:, 2 * l], (B, P, NKV, HS)), k], 1)
            v = np.concatenate([np.broadcast_to(pe[:, 2 * l + 1], (B, P, NKV, HS)), v], 1)
        rep = NH // NKV
        k, v = np.repeat(k, rep, axis=2), np.repeat(v, rep, axis=2)
        att = np.einsum('bthd,bshd->bhts', q, k) / math.sqrt(HS)
        att = np.where(allowed[None, None], att, -np.inf)
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        y = np.einsum('bhts,bshd->bthd', att, v).reshape(B, T, NH * HS)
        x = x + bottleneck(lin(y, p + 'self_attn.o_proj'), p + 'self_attn')
        h = rmsnorm(x, W[p + 'post_attention_layernorm.weight'], eps)
        m = lin(silu(lin(h, p + 'mlp.gate_proj')) * lin(h, p + 'mlp.up_proj'), p + 'mlp.down_proj')
        x = x + bottleneck(m, p + 'mlp')
    x = rmsnorm(x, W['model.norm.weight'], eps)
    head = W['model.embed_tokens.weight'] if config.get('tie_word_embeddings') else W['lm_head.weight']
    return x @ head.T


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--model', default=os.path.join(os.path.dirname(__file__), '..', '..', 'models', 'brown-llama-4m'))
    ap.add_argument('--adapter')
    ap.add_argument('--logits')
    ap.add_argument('--tol', type=float, default=1e-3)
    ap.add_argument('--selftest', action='store_true')
    args = ap.parse_args()
    config = json.load(open(os.path.join(args.model, 'config.json')))
    W = read_safetensors(open(os.path.join(args.model, 'model.safetensors'), 'rb').read())
    if args.selftest:
        fx = read_safetensors(open(os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'forward.safetensors'), 'rb').read())
        got = llama_logits(config, W, fx['input_ids'])
        err = np.abs(got - fx['logits']).max()
        print(json.dumps({'check': 'selftest', 'max_abs_error': float(err)}))
        return 0 if err <= 1e-4 else 1
    if not (args.adapter and args.logits):
        ap.error('--adapter and --logits are required (or --selftest)')
    adapter = read_adapter(args.adapter)
    base = adapter[0].get('base_model_name_or_path')
    engine = read_safetensors(open(args.logits, 'rb').read())
    got = llama_logits(config, W, engine['input_ids'], adapter)
    base_logits = llama_logits(config, W, engine['input_ids'])
    err = float(np.abs(got - engine['logits']).max())
    effect = float(np.abs(got - base_logits).max())
    print(json.dumps({'check': 'adapter', 'peft_type': adapter[0].get('peft_type'), 'base_model': base,
                      'max_abs_error': err, 'max_adapter_effect': effect, 'tol': args.tol}))
    return 0 if err <= args.tol else 1


if __name__ == '__main__':
    sys.exit(main())

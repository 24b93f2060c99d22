"""Step 4: reference fixtures for the engine (tests/fixtures/, format in tests/fixtures/README.md).

Everything the engine is compared with is computed here in float64 from float32 (or f16/bf16)
weights, so the fixture is the exact answer for those weights and the engine's error is its own.
Greedy continuations are computed in float32 (what onnxruntime computes) and checked to agree with
float64, with the smallest top-1/top-2 logit margin reported.
"""
import json
import os
import sys

import math

import numpy as np
import torch
import torch.nn.functional as F

import bpe
import safetensors_io
from common import CONFIG, EOT, FIXTURES, MODEL_DIR, WORK, ensure_dirs
from export import load_pretrained
from model import Bottleneck, LlamaForCausalLM, build, masked_loss

B, T = 2, 32
LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']
PROMPTS = ['The jury said that the', 'In the morning, the old man']
PREFIX = 'base_model.model.'


def batch():
    """Two rows of held-out text with some positions excluded from the loss."""
    valid = np.load(os.path.join(WORK, 'tokens.npz'))['valid'].astype(np.int64)
    rows = [valid[1000:1000 + T + 1], valid[20000:20000 + T + 1]]
    ids = torch.tensor(np.stack([r[:T] for r in rows]))
    targets = torch.tensor(np.stack([r[1:] for r in rows]))
    targets[0, :10] = -100  # a "prompt" whose tokens do not count
    targets[1, -3:] = -100  # padding at the end
    return ids.to(torch.int32), targets.to(torch.int32)


def f32(t):
    """Round to float32 (what the fixture file stores), then compute in float64."""
    return t.to(torch.float32).to(torch.float64)


def seeded(shape, seed, std):
    g = torch.Generator().manual_seed(seed)
    return f32(torch.randn(*shape, generator=g, dtype=torch.float64) * std)


def trainable_fixture(model, ids, targets, params, name, config):
    """Loss and autograd gradients of `params` (dict PEFT key -> leaf tensor) into <name>.safetensors."""
    logits, _ = model(ids.long())
    loss = masked_loss(logits, targets.long())
    grads = torch.autograd.grad(loss, list(params.values()))
    out = {'input_ids': ids, 'targets': targets, 'loss': loss.detach().reshape(1).float()}
    for (key, p), g in zip(params.items(), grads):
        out[key] = p.detach().float()
        out[key + '.grad'] = g.float()
    safetensors_io.save(out, os.path.join(FIXTURES, name + '.safetensors'))
    with open(os.path.join(FIXTURES, name + '.json'), 'w') as f:
        json.dump(config, f, indent=2)
    print(name, 'loss', loss.item(), 'params', len(params))


def default_model_fixtures():
    ids, targets = batch()
    model = load_pretrained(torch.float64)
    for p in model.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        logits, _ = model(ids.long())
        loss = masked_loss(logits, targets.long())
    safetensors_io.save({'input_ids': ids, 'targets': targets, 'logits': logits.float(), 'loss': loss.reshape(1).float()},
                        os.path.join(FIXTURES, 'forward.safetensors'))
    print('forward loss', loss.item())

    # LoRA r=4, alpha=8 on every projection, fixed non-zero A and B.
    r, alpha = 4, 8
    params = {}
    for i, layer in enumerate(model.model.layers):
        for mod_name in LORA_TARGETS:
            parent = layer.self_attn if mod_name.endswith(('q_proj', 'k_proj', 'v_proj', 'o_proj')) else layer.mlp
            lin = getattr(parent, mod_name)
            lin.add_lora(r, alpha)
            path = f"model.layers.{i}.{'self_attn' if parent is layer.self_attn else 'mlp'}.{mod_name}"
            out_f, in_f = lin.weight.shape
            seed = 1000 + 10 * i + LORA_TARGETS.index(mod_name)
            lin.lora_A.weight = torch.nn.Parameter(seeded((r, in_f), seed, 1 / np.sqrt(in_f)))
            lin.lora_B.weight = torch.nn.Parameter(seeded((out_f, r), seed + 5000, 0.05))
            params[f'{PREFIX}{path}.lora_A.weight'] = lin.lora_A.weight
            params[f'{PREFIX}{path}.lora_B.weight'] = lin.lora_B.weight
    lora_config = {
        'peft_type': 'LORA', 'task_type': 'CAUSAL_LM', 'base_model_name_or_path': 'brown-llama-4m', 'r': r,
        'lora_alpha': alpha, 'lora_dropout': 0.0, 'target_modules': LORA_TARGETS, 'use_rslora': False,
        'bias': 'none', 'fan_in_fan_out': False, 'init_lora_weights': True, 'inference_mode': False,
        'modules_to_save': None, 'layers_to_transform': None, 'use_dora': False,
    }
    trainable_fixture(model, ids, targets, params, 'lora', lora_config)

    model = load_pretrained(torch.float64)
    for p in model.parameters():
        p.requires_grad_(False)
    size, C = 16, CONFIG['hidden_size']
    params = {}
    for i, layer in enumerate(model.model.layers):
        for place, attr in (('self_attn', 'attn_adapter'), ('mlp', 'mlp_adapter')):
            ad = Bottleneck(C, size, 'relu').double()
            seed = 2000 + 10 * i + (0 if place == 'self_attn' else 5)
            ad.down.weight = torch.nn.Parameter(seeded((size, C), seed, 0.2))
            ad.down.bias = torch.nn.Parameter(seeded((size,), seed + 1, 0.1))
            ad.up.weight = torch.nn.Parameter(seeded((C, size), seed + 2, 0.1))
            ad.up.bias = torch.nn.Parameter(seeded((C,), seed + 3, 0.02))
            setattr(layer, attr, ad)
            for part in ('down', 'up'):
                for kind in ('weight', 'bias'):
                    params[f'{PREFIX}model.layers.{i}.{place}.adapter.{part}.{kind}'] = getattr(getattr(ad, part), kind)
    trainable_fixture(model, ids, targets, params, 'bottleneck', {
        'peft_type': 'BOTTLENECK', 'task_type': 'CAUSAL_LM', 'base_model_name_or_path': 'brown-llama-4m',
        'bottleneck_size': size, 'non_linearity': 'relu', 'placement': ['self_attn', 'mlp'],
    })

    model = load_pretrained(torch.float64)
    for p in model.parameters():
        p.requires_grad_(False)
    P, L, NKV, HS = 8, CONFIG['num_hidden_layers'], CONFIG['num_key_value_heads'], CONFIG['head_dim']
    model.prompt_embeddings = torch.nn.Parameter(seeded((P, L * 2 * NKV * HS), 3000, 0.5))
    trainable_fixture(model, ids, targets, {'prompt_embeddings': model.prompt_embeddings}, 'prefix', {
        'peft_type': 'PREFIX_TUNING', 'task_type': 'CAUSAL_LM', 'base_model_name_or_path': 'brown-llama-4m',
        'num_virtual_tokens': P, 'num_layers': L, 'token_dim': NKV * HS, 'num_attention_heads': NKV,
        'num_transformer_submodules': 1, 'prefix_projection': False, 'encoder_hidden_size': CONFIG['hidden_size'],
        'inference_mode': False,
    })


# ---------------------------------------------------------------- preference (DPO, SimPO, ORPO)

# Three pairs of the default model's kind of text: a prompt, a chosen and a rejected completion.
DPO_PAIRS = [
    ('The jury said that the', ' election had been conducted fairly.', ' the the of jury jury.'),
    ('In the morning, the old man', ' walked slowly to the church.', ' was.'),
    ('She opened the letter and', ' read it twice before she spoke.', ' it ate the house and a blue number of the of.'),
]
DPO_T = 24
# The objectives the fixtures hold, with TRL's names (src/lib/train/objective.ts).
DPO_LOSSES = {
    'sigmoid': {'type': 'dpo', 'beta': 0.1, 'loss_type': 'sigmoid', 'label_smoothing': 0.0},
    'ipo': {'type': 'dpo', 'beta': 0.1, 'loss_type': 'ipo', 'label_smoothing': 0.0},
    'robust': {'type': 'dpo', 'beta': 0.1, 'loss_type': 'robust', 'label_smoothing': 0.1},
    'simpo': {'type': 'simpo', 'beta': 2.0, 'simpo_gamma': 0.5},
    'orpo': {'type': 'orpo', 'beta': 0.1},
}


def load_shipped(dtype):
    """The default model from its folder (config.json's CONFIG and model.safetensors), as the app loads it."""
    model = LlamaForCausalLM(CONFIG)
    state = safetensors_io.load(os.path.join(MODEL_DIR, 'model.safetensors'))
    model.load_state_dict({k: v.to(torch.float32) for k, v in state.items()})
    model = model.to(dtype).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def dpo_batch():
    """Rows 2k, 2k+1: pair k's prompt + chosen and prompt + rejected completion (+ EOS), packed as the
    app packs them (pad id EOT, targets -100 on the prompt and the padding)."""
    tok = bpe.Tokenizer.from_hf_json(os.path.join(MODEL_DIR, 'tokenizer.json'))
    ids, targets = [], []
    for prompt, chosen, rejected in DPO_PAIRS:
        p = tok.encode(prompt)
        for completion in (chosen, rejected):
            seq = (p + tok.encode(completion) + [EOT])[:DPO_T + 1]
            row = seq[:DPO_T] + [EOT] * (DPO_T - min(len(seq), DPO_T))
            tg = [-100] * DPO_T
            for t in range(len(seq) - 1):
                if t + 1 >= len(p):
                    tg[t] = seq[t + 1]
            ids.append(row)
            targets.append(tg)
    return torch.tensor(ids, dtype=torch.int32), torch.tensor(targets, dtype=torch.int32)


def sequence_logps(model, ids, targets):
    """Sum of log p over each row's counted tokens, and their count."""
    logits, _ = model(ids.long())
    mask = targets != -100
    logp = torch.log_softmax(logits, dim=-1).gather(-1, targets.long().clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (logp * mask).sum(-1), mask.sum(-1).to(logits.dtype)


def log1mexp(x):
    return torch.where(x < -math.log(2), torch.log1p(-torch.exp(x)), torch.log(-torch.expm1(x)))


def preference_loss(cfg, logps, counts, ref):
    """TRL's losses (DPOTrainer sigmoid/ipo/robust, CPOTrainer simpo with cpo_alpha 0, ORPOTrainer) on
    pairs (rows 2k chosen, 2k+1 rejected); ORPO's NLL counts the chosen completion's tokens."""
    pc, pr, nc, nr = logps[0::2], logps[1::2], counts[0::2], counts[1::2]
    beta = cfg['beta']
    if cfg['type'] == 'dpo':
        dc, dr = pc - ref[0::2], pr - ref[1::2]
        if cfg['loss_type'] == 'sigmoid':
            losses = -F.logsigmoid(beta * (dc - dr))
        elif cfg['loss_type'] == 'robust':
            e = cfg['label_smoothing']
            losses = (-(1 - e) * F.logsigmoid(beta * (dc - dr)) + e * F.logsigmoid(-beta * (dc - dr))) / (1 - 2 * e)
        else:
            losses = (dc / nc - dr / nr - 1 / (2 * beta)) ** 2
        return losses.mean()
    ac, ar = pc / nc, pr / nr
    if cfg['type'] == 'simpo':
        return (-F.logsigmoid(beta * (ac - ar) - cfg['simpo_gamma'])).mean()
    log_odds = (ac - ar) - (log1mexp(ac) - log1mexp(ar))
    return -pc.sum() / nc.sum() - beta * F.logsigmoid(log_odds).mean()


def attach_lora(model, weights, adapter):
    """Adds the LoRA of a PEFT state dict (keys under PREFIX; '.grad' entries skipped) to `model` as float64
    parameters; returns them by key, in the state dict's order."""
    params = {}
    for key, value in weights.items():
        if key.endswith('.grad') or not key.startswith(PREFIX):
            continue
        path, kind = key[len(PREFIX):].rsplit('.', 2)[0], key.rsplit('.', 2)[1]
        lin = model.get_submodule(path)
        if not hasattr(lin, 'lora_A'):
            lin.add_lora(adapter['r'], adapter['lora_alpha'], adapter['use_rslora'])
        layer = getattr(lin, kind)
        layer.weight = torch.nn.Parameter(value.to(torch.float64))
        params[key] = layer.weight
    return params


def dpo_fixtures():
    """dpo-{lora,bottleneck,prefix}: the adapters of lora/bottleneck/prefix.safetensors on a batch of pairs,
    the reference (adapter off) and policy log-probs, every objective's loss, and adapter gradients
    (float64 autograd): sigmoid DPO's for every method, every objective's for prefix tuning."""
    ids, targets = dpo_batch()
    base = load_shipped(torch.float64)
    with torch.no_grad():
        ref, counts = sequence_logps(base, ids, targets)
    for method in ('lora', 'bottleneck', 'prefix'):
        model = load_shipped(torch.float64)
        weights = safetensors_io.load(os.path.join(FIXTURES, method + '.safetensors'))
        params = {}
        adapter = json.load(open(os.path.join(FIXTURES, method + '.json')))
        if method == 'lora':
            params.update(attach_lora(model, weights, adapter))
        elif method == 'bottleneck':
            for i, layer in enumerate(model.model.layers):
                for place, attr in (('self_attn', 'attn_adapter'), ('mlp', 'mlp_adapter')):
                    ad = Bottleneck(CONFIG['hidden_size'], adapter['bottleneck_size'], adapter['non_linearity']).double()
                    for part in ('down', 'up'):
                        for kind in ('weight', 'bias'):
                            key = f'{PREFIX}model.layers.{i}.{place}.adapter.{part}.{kind}'
                            setattr(getattr(ad, part), kind, torch.nn.Parameter(weights[key].to(torch.float64)))
                            params[key] = getattr(getattr(ad, part), kind)
                    setattr(layer, attr, ad)
        else:
            model.prompt_embeddings = torch.nn.Parameter(weights['prompt_embeddings'].to(torch.float64))
            params['prompt_embeddings'] = model.prompt_embeddings
        out = {'input_ids': ids, 'targets': targets, 'reference': ref.float()}
        logps, _ = sequence_logps(model, ids, targets)
        out['logps'] = logps.detach().float()
        with_grads = list(DPO_LOSSES) if method == 'prefix' else ['sigmoid']
        for name, cfg in DPO_LOSSES.items():
            logps, _ = sequence_logps(model, ids, targets)
            loss = preference_loss(cfg, logps, counts, ref)
            out[f'loss.{name}'] = loss.detach().reshape(1).float()
            if name in with_grads:
                grads = torch.autograd.grad(loss, list(params.values()))
                for key, g in zip(params, grads):
                    out[f'{key}.grad.{name}'] = g.float()
            print(f'dpo-{method}', name, 'loss', loss.item())
        safetensors_io.save(out, os.path.join(FIXTURES, f'dpo-{method}.safetensors'))
        with open(os.path.join(FIXTURES, f'dpo-{method}.json'), 'w') as f:
            json.dump({'adapter': f'{method}.json', 'weights': f'{method}.safetensors', 'pairs': DPO_PAIRS,
                       'losses': DPO_LOSSES, 'gradients': with_grads}, f, indent=2)


REWARD_MARGIN = 0.25
REWARD_HEAD_SEED, REWARD_HEAD_STD = 7, 0.1


def last_tokens(targets):
    """Each row's last token: one past its last counted target (T-1 when cut there), as the app finds it."""
    T = targets.shape[1]
    out = []
    for row in targets:
        counted = (row != -100).nonzero().flatten()
        out.append(min(int(counted[-1]) + 1, T - 1))
    return torch.tensor(out)


def reward_fixtures():
    """reward-lora: a reward model (the LoRA of lora.safetensors + a seeded score head, LlamaForSequenceClassification's
    nn.Linear(hidden, 1, bias=False) on the last token's final hidden state) on the DPO batch of pairs: the rewards,
    TRL RewardTrainer's loss -log sigmoid(r+ - r- - margin) with and without a margin, and float64 gradients of the
    LoRA weights and the head for the margin loss."""
    ids, targets = dpo_batch()
    model = load_shipped(torch.float64)
    weights = safetensors_io.load(os.path.join(FIXTURES, 'lora.safetensors'))
    adapter = json.load(open(os.path.join(FIXTURES, 'lora.json')))
    params = attach_lora(model, weights, adapter)
    score = torch.nn.Parameter(seeded((1, CONFIG['hidden_size']), REWARD_HEAD_SEED, REWARD_HEAD_STD))
    params[PREFIX + 'score.weight'] = score
    hidden = {}
    hook = model.model.norm.register_forward_hook(lambda m, i, o: hidden.__setitem__('nf', o))
    model(ids.long())
    hook.remove()
    last = last_tokens(targets)
    rewards = (hidden['nf'][torch.arange(ids.shape[0]), last] @ score.T).squeeze(-1)
    rc, rr = rewards[0::2], rewards[1::2]
    out = {'input_ids': ids, 'targets': targets, 'last': last.to(torch.int32), 'rewards': rewards.detach().float(),
           PREFIX + 'score.weight': score.detach().float()}
    out['loss.nomargin'] = (-F.logsigmoid(rc - rr)).mean().detach().reshape(1).float()
    loss = (-F.logsigmoid(rc - rr - REWARD_MARGIN)).mean()
    out['loss'] = loss.detach().reshape(1).float()
    grads = torch.autograd.grad(loss, list(params.values()))
    for key, g in zip(params, grads):
        out[key + '.grad'] = g.float()
    safetensors_io.save(out, os.path.join(FIXTURES, 'reward-lora.safetensors'))
    with open(os.path.join(FIXTURES, 'reward-lora.json'), 'w') as f:
        json.dump({'adapter': 'lora.json', 'weights': 'lora.safetensors', 'pairs': DPO_PAIRS, 'margin': REWARD_MARGIN,
                   'score_seed': REWARD_HEAD_SEED, 'score_std': REWARD_HEAD_STD}, f, indent=2)
    print('reward-lora loss', loss.item(), 'rewards', rewards.tolist())


def greedy(model, ids, n, eos):
    out = list(ids)
    margins = []
    with torch.no_grad():
        for _ in range(n):
            logits, _ = model(torch.tensor([out]))
            top = torch.topk(logits[0, -1], 2)
            margins.append((top.values[0] - top.values[1]).item())
            nxt = int(top.indices[0])
            out.append(nxt)
            if nxt in eos:
                break
    return out[len(ids):], min(margins)


def greedy_fixture():
    tok = bpe.Tokenizer.from_hf_json(os.path.join(MODEL_DIR, 'tokenizer.json'))
    eos = json.load(open(os.path.join(MODEL_DIR, 'generation_config.json')))['eos_token_id']
    m32, m64 = load_pretrained(torch.float32), load_pretrained(torch.float64)
    cases = []
    for prompt in PROMPTS:
        ids = tok.encode(prompt)
        out32, margin = greedy(m32, ids, 32, eos)
        out64, _ = greedy(m64, ids, 32, eos)
        assert out32 == out64, f'float32 and float64 greedy disagree for {prompt!r}'
        cases.append({'prompt': prompt, 'input_ids': ids, 'output_ids': out32, 'text': tok.decode(out32),
                      'min_top2_margin': margin})
        print('greedy', repr(prompt), '->', repr(tok.decode(out32)), 'min margin', round(margin, 4))
    with open(os.path.join(FIXTURES, 'greedy.json'), 'w') as f:
        json.dump(cases, f, indent=2)
    texts = ['The Fulton County Grand Jury said Friday an investigation',
             "Hello  world!\n\n  It's 1961 -- \"yes\" $3.50 café ☕",
             '<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n',
             '   leading spaces, tabs\tand trailing newline\n']
    with open(os.path.join(FIXTURES, 'tokenizer.json'), 'w') as f:
        json.dump([{'text': t, 'ids': tok.encode(t)} for t in texts], f, indent=2, ensure_ascii=False)


TINY = {
    'tiny-gpt2': {'architectures': ['GPT2LMHeadModel'], 'model_type': 'gpt2', 'vocab_size': 384, 'n_embd': 64,
                  'n_layer': 2, 'n_head': 4, 'n_positions': 64, 'n_ctx': 64, 'n_inner': None,
                  'activation_function': 'gelu_new', 'layer_norm_epsilon': 1e-5, 'tie_word_embeddings': True,
                  'bos_token_id': 0, 'eos_token_id': 0, 'torch_dtype': 'float32'},
    'tiny-qwen2': {'architectures': ['Qwen2ForCausalLM'], 'model_type': 'qwen2', 'vocab_size': 384,
                   'hidden_size': 64, 'intermediate_size': 160, 'num_hidden_layers': 2, 'num_attention_heads': 4,
                   'num_key_value_heads': 2, 'hidden_act': 'silu', 'max_position_embeddings': 128,
                   'rms_norm_eps': 1e-6, 'rope_theta': 1000000.0, 'tie_word_embeddings': False,
                   'bos_token_id': 0, 'eos_token_id': 0, 'torch_dtype': 'float16'},
    'tiny-smollm2': {'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', 'vocab_size': 384,
                     'hidden_size': 96, 'intermediate_size': 256, 'num_hidden_layers': 2, 'num_attention_heads': 6,
                     'num_key_value_heads': 2, 'head_dim': 16, 'hidden_act': 'silu', 'max_position_embeddings': 128,
                     'rms_norm_eps': 1e-5, 'rope_theta': 100000.0, 'tie_word_embeddings': True,
                     'attention_bias': False, 'bos_token_id': 0, 'eos_token_id': 0, 'torch_dtype': 'bfloat16'},
    # head_dim 24 differs from hidden/heads (16), as Qwen3-0.6B's 128 differs from 1024/16
    'tiny-qwen3': {'architectures': ['Qwen3ForCausalLM'], 'model_type': 'qwen3', 'vocab_size': 384,
                   'hidden_size': 64, 'intermediate_size': 128, 'num_hidden_layers': 2, 'num_attention_heads': 4,
                   'num_key_value_heads': 2, 'head_dim': 24, 'hidden_act': 'silu', 'max_position_embeddings': 128,
                   'rms_norm_eps': 1e-6, 'rope_theta': 1000000.0, 'rope_scaling': None, 'tie_word_embeddings': True,
                   'attention_bias': False, 'use_sliding_window': False, 'sliding_window': None,
                   'bos_token_id': 0, 'eos_token_id': 0, 'torch_dtype': 'bfloat16'},
}
# Tiny models that also get LoRA gradients (<name>/lora.safetensors + lora.json, same format as lora.safetensors)
TINY_LORA = ['tiny-qwen3']
STORE_DTYPE = {'float32': torch.float32, 'float16': torch.float16, 'bfloat16': torch.bfloat16}


def tiny_fixtures():
    for i, (name, config) in enumerate(TINY.items()):
        torch.manual_seed(100 + i)
        model = build(config).double()
        with torch.no_grad():
            for pname, p in model.named_parameters():
                if pname.endswith('norm.weight') or pname.endswith(('ln_1.weight', 'ln_2.weight', 'ln_f.weight')):
                    p.copy_(1 + 0.1 * torch.randn_like(p))
                else:
                    p.copy_(0.15 * torch.randn_like(p))
        store = STORE_DTYPE[config['torch_dtype']]
        state = {k: v.to(store) for k, v in model.state_dict().items()}
        with torch.no_grad():  # compute from exactly the stored (rounded) weights
            for k, v in model.state_dict().items():
                v.copy_(state[k].to(torch.float64))
        d = os.path.join(FIXTURES, name)
        os.makedirs(d, exist_ok=True)
        safetensors_io.save(state, os.path.join(d, 'model.safetensors'), metadata={'format': 'pt'})
        with open(os.path.join(d, 'config.json'), 'w') as f:
            json.dump(config, f, indent=2)
        g = torch.Generator().manual_seed(7)
        ids = torch.randint(0, config['vocab_size'], (2, 12), generator=g)
        with torch.no_grad():
            out = model(ids)
            logits = out[0] if isinstance(out, tuple) else out
        safetensors_io.save({'input_ids': ids.to(torch.int32), 'logits': logits.float()}, os.path.join(d, 'logits.safetensors'))
        print(name, 'logits', tuple(logits.shape), 'absmax', logits.abs().max().item())
        if name in TINY_LORA:
            tiny_lora_fixture(model, name, ids, g)


def tiny_lora_fixture(model, name, ids, g):
    """LoRA r=4, alpha=8 on every projection of a tiny model, fixed non-zero A and B; loss and gradients
    over `ids` with targets drawn from `g`, some masked."""
    for p in model.parameters():
        p.requires_grad_(False)
    targets = torch.randint(0, model.config['vocab_size'], ids.shape, generator=g)
    targets[0, :4] = -100
    targets[1, -2:] = -100
    r, alpha = 4, 8
    params = {}
    for path, lin in list(model.named_modules()):
        if path.rsplit('.', 1)[-1] not in LORA_TARGETS:
            continue
        lin.add_lora(r, alpha)
        out_f, in_f = lin.weight.shape
        seed = 3000 + len(params)
        lin.lora_A.weight = torch.nn.Parameter(seeded((r, in_f), seed, 1 / np.sqrt(in_f)))
        lin.lora_B.weight = torch.nn.Parameter(seeded((out_f, r), seed + 5000, 0.05))
        params[f'{PREFIX}{path}.lora_A.weight'] = lin.lora_A.weight
        params[f'{PREFIX}{path}.lora_B.weight'] = lin.lora_B.weight
    config = {'peft_type': 'LORA', 'task_type': 'CAUSAL_LM', 'base_model_name_or_path': name, 'r': r,
              'lora_alpha': alpha, 'lora_dropout': 0.0, 'target_modules': LORA_TARGETS, 'use_rslora': False,
              'bias': 'none', 'fan_in_fan_out': False, 'init_lora_weights': True, 'inference_mode': False,
              'modules_to_save': None, 'layers_to_transform': None, 'use_dora': False}
    trainable_fixture(model, ids.to(torch.int32), targets.to(torch.int32), params, os.path.join(name, 'lora'), config)


if __name__ == '__main__':
    # `fixtures.py tiny` writes only the tiny architectures' fixtures.
    # `fixtures.py dpo` writes only the preference fixtures (`fixtures.py reward` only the reward model's):
    # they need the shipped model folder and the adapter fixtures, not the pretraining checkpoint the
    # others are computed from.
    ensure_dirs()
    if sys.argv[1:] == ['tiny']:  # only the tiny architecture fixtures (no pretraining checkpoint needed)
        tiny_fixtures()
        sys.exit(0)
    if sys.argv[1:] not in (['dpo'], ['reward']):
        default_model_fixtures()
        greedy_fixture()
        tiny_fixtures()
    if sys.argv[1:] != ['reward']:
        dpo_fixtures()
    reward_fixtures()

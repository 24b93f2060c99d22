"""Plain PyTorch implementations of the model families the engine supports, written from the
Hugging Face definitions so that parameter names (state_dict keys) match theirs exactly:

- Llama family (LlamaForCausalLM; Qwen2ForCausalLM = Llama + q/k/v bias; Qwen3ForCausalLM = Llama +
  RMSNorm over each head of q and k before RoPE, q_norm/k_norm weights (head_dim,)): RMSNorm,
  rotate-half RoPE, SwiGLU MLP, grouped-query attention, tied or untied lm_head.
- GPT-2 (GPT2LMHeadModel): LayerNorm, learned positions, gelu_new, Conv1D weights stored (in, out).

The same code pretrains the default model, exports it to ONNX with a KV cache, and computes the
reference fixtures (in float64) for the engine, with three trainable methods using PEFT's semantics:
LoRA (lora_A (r,in), lora_B (out,r), scaling alpha/r or alpha/sqrt(r)), a bottleneck adapter after
attention and MLP (y + up(act(down(y)))), and prefix tuning (per-layer key/value prefixes; real tokens
take positions P.. as transformers does with a P-long cache).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NEG = -1e9  # additive mask value; finite so fully masked rows stay NaN-free in ONNX


class Lin(nn.Module):
    """nn.Linear (weight (out,in)) with an optional LoRA branch, named as PEFT names it."""

    def __init__(self, inp, out, bias=False):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out, inp))
        self.bias = nn.Parameter(torch.zeros(out)) if bias else None
        nn.init.normal_(self.weight, std=0.02)
        self.scaling = 0.0

    def add_lora(self, r, alpha, rslora=False):
        out, inp = self.weight.shape
        self.lora_A = nn.Linear(inp, r, bias=False)
        self.lora_B = nn.Linear(r, out, bias=False)
        self.scaling = alpha / math.sqrt(r) if rslora else alpha / r

    def forward(self, x):
        y = F.linear(x, self.weight, self.bias)
        if hasattr(self, 'lora_A'):
            y = y + self.lora_B(self.lora_A(x)) * self.scaling
        return y


class Bottleneck(nn.Module):
    """Houlsby-style adapter on a sublayer's output: y + up(act(down(y)))."""

    def __init__(self, dim, size, act='relu'):
        super().__init__()
        self.down = nn.Linear(dim, size)
        self.up = nn.Linear(size, dim)
        self.act = act

    def forward(self, y):
        h = self.down(y)
        h = {'relu': F.relu, 'silu': F.silu, 'gelu': F.gelu}[self.act](h)
        return y + self.up(h)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def attention(q, k, v, mask, n_rep):
    """q (B,NH,T,HS), k/v (B,NKV,S,HS), mask (B,1,T,S) additive -> (B,T,NH*HS)."""
    B, NKV, S, HS = k.shape
    if n_rep > 1:
        k = k[:, :, None].expand(B, NKV, n_rep, S, HS).reshape(B, NKV * n_rep, S, HS)
        v = v[:, :, None].expand(B, NKV, n_rep, S, HS).reshape(B, NKV * n_rep, S, HS)
    att = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(HS) + mask
    att = torch.softmax(att, dim=-1)
    y = torch.matmul(att, v)
    return y.transpose(1, 2).reshape(q.shape[0], q.shape[2], -1)


def build_mask(B, T, past, attention_mask, dtype):
    """Additive mask (B,1,T,past+T): causal over positions, and 0/1 attention_mask over keys."""
    S = past + T
    q_pos = torch.arange(T).unsqueeze(1) + past
    k_pos = torch.arange(S).unsqueeze(0)
    allowed = (k_pos <= q_pos).unsqueeze(0).unsqueeze(0)  # (1,1,T,S)
    if attention_mask is not None:
        allowed = allowed & (attention_mask[:, None, None, :] > 0)
    return torch.where(allowed, torch.zeros((), dtype=dtype), torch.full((), NEG, dtype=dtype))


# ---------------------------------------------------------------- Llama / Qwen2 / SmolLM2

class LlamaAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.nh, self.nkv = c['num_attention_heads'], c['num_key_value_heads']
        self.hs = c.get('head_dim') or c['hidden_size'] // self.nh
        bias = c.get('attention_bias', c['model_type'] == 'qwen2')
        C = c['hidden_size']
        self.q_proj = Lin(C, self.nh * self.hs, bias)
        self.k_proj = Lin(C, self.nkv * self.hs, bias)
        self.v_proj = Lin(C, self.nkv * self.hs, bias)
        self.o_proj = Lin(self.nh * self.hs, C, False)
        # Qwen3Attention: q_norm/k_norm over head_dim, applied to (B,T,H,HS) before the transpose and RoPE
        self.qk_norm = c['model_type'] == 'qwen3'
        if self.qk_norm:
            self.q_norm = RMSNorm(self.hs, c['rms_norm_eps'])
            self.k_norm = RMSNorm(self.hs, c['rms_norm_eps'])

    def forward(self, x, cos, sin, mask, past_kv=None, prefix_kv=None):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.nh, self.hs)
        k = self.k_proj(x).view(B, T, self.nkv, self.hs)
        if self.qk_norm:
            q, k = self.q_norm(q), self.k_norm(k)
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.nkv, self.hs).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past_kv is not None:
            k = torch.cat([past_kv[0], k], dim=2)
            v = torch.cat([past_kv[1], v], dim=2)
        present = (k, v)
        if prefix_kv is not None:  # (P,NKV,HS) each, shared by the batch, no RoPE
            pk = prefix_kv[0].transpose(0, 1).unsqueeze(0).expand(B, -1, -1, -1)
            pv = prefix_kv[1].transpose(0, 1).unsqueeze(0).expand(B, -1, -1, -1)
            k = torch.cat([pk, k], dim=2)
            v = torch.cat([pv, v], dim=2)
        y = attention(q, k, v, mask, self.nh // self.nkv)
        return self.o_proj(y), present


class LlamaMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        C, H = c['hidden_size'], c['intermediate_size']
        self.gate_proj = Lin(C, H)
        self.up_proj = Lin(C, H)
        self.down_proj = Lin(H, C)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = LlamaAttention(c)
        self.mlp = LlamaMLP(c)
        self.input_layernorm = RMSNorm(c['hidden_size'], c['rms_norm_eps'])
        self.post_attention_layernorm = RMSNorm(c['hidden_size'], c['rms_norm_eps'])
        self.attn_adapter = None
        self.mlp_adapter = None

    def forward(self, x, cos, sin, mask, past_kv=None, prefix_kv=None):
        a, present = self.self_attn(self.input_layernorm(x), cos, sin, mask, past_kv, prefix_kv)
        if self.attn_adapter is not None:
            a = self.attn_adapter(a)
        x = x + a
        m = self.mlp(self.post_attention_layernorm(x))
        if self.mlp_adapter is not None:
            m = self.mlp_adapter(m)
        return x + m, present


class LlamaModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c['vocab_size'], c['hidden_size'])
        nn.init.normal_(self.embed_tokens.weight, std=0.02)
        self.layers = nn.ModuleList(LlamaLayer(c) for _ in range(c['num_hidden_layers']))
        self.norm = RMSNorm(c['hidden_size'], c['rms_norm_eps'])


class LlamaForCausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.model = LlamaModel(c)
        self.tied = c.get('tie_word_embeddings', False)
        if not self.tied:
            self.lm_head = Lin(c['hidden_size'], c['vocab_size'])
        hs = c.get('head_dim') or c['hidden_size'] // c['num_attention_heads']
        self.register_buffer('inv_freq', 1.0 / (c.get('rope_theta', 10000.0) ** (torch.arange(0, hs, 2, dtype=torch.float64) / hs)), persistent=False)
        self.prompt_embeddings = None  # prefix tuning: (P, L*2*NKV*HS)

    def prefix_kv(self, layer):
        if self.prompt_embeddings is None:
            return None
        c = self.config
        P = self.prompt_embeddings.shape[0]
        nkv = c['num_key_value_heads']
        hs = c.get('head_dim') or c['hidden_size'] // c['num_attention_heads']
        pe = self.prompt_embeddings.view(P, c['num_hidden_layers'] * 2, nkv, hs)
        return pe[:, 2 * layer], pe[:, 2 * layer + 1]

    def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None):
        """logits (B,T,V) and the present key/values (B,NKV,past+T,HS) per layer."""
        B, T = input_ids.shape
        past = 0 if past_key_values is None else past_key_values[0][0].shape[2]
        P = 0 if self.prompt_embeddings is None else self.prompt_embeddings.shape[0]
        if position_ids is None:
            position_ids = (torch.arange(T) + past + P).unsqueeze(0).expand(B, T)
        x = self.model.embed_tokens(input_ids)
        dtype = x.dtype
        freqs = position_ids.to(self.inv_freq.dtype)[..., None] * self.inv_freq
        emb = torch.cat([freqs, freqs], dim=-1)
        cos, sin = emb.cos().to(dtype)[:, None], emb.sin().to(dtype)[:, None]
        mask = build_mask(B, T, past, attention_mask, dtype)
        if P:
            mask = torch.cat([torch.zeros(mask.shape[0], 1, T, P, dtype=dtype), mask], dim=-1)
        presents = []
        for i, layer in enumerate(self.model.layers):
            pkv = None if past_key_values is None else past_key_values[i]
            x, present = layer(x, cos, sin, mask, pkv, self.prefix_kv(i))
            presents.append(present)
        x = self.model.norm(x)
        logits = F.linear(x, self.model.embed_tokens.weight) if self.tied else self.lm_head(x)
        return logits, presents


# ---------------------------------------------------------------- GPT-2

class Conv1D(nn.Module):
    """GPT-2's Conv1D: weight stored (in, out)."""

    def __init__(self, inp, out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(inp, out) * 0.02)
        self.bias = nn.Parameter(torch.randn(out) * 0.02)

    def forward(self, x):
        return x @ self.weight + self.bias


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class GPT2Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        C = c['n_embd']
        self.nh = c['n_head']
        self.c_attn = Conv1D(C, 3 * C)
        self.c_proj = Conv1D(C, C)

    def forward(self, x, mask):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.nh, C // self.nh).transpose(1, 2) for t in (q, k, v))
        return self.c_proj(attention(q, k, v, mask, 1))


class GPT2Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        C = c['n_embd']
        self.ln_1 = nn.LayerNorm(C, eps=c['layer_norm_epsilon'])
        self.attn = GPT2Attention(c)
        self.ln_2 = nn.LayerNorm(C, eps=c['layer_norm_epsilon'])
        self.mlp = nn.Module()
        self.mlp.c_fc = Conv1D(C, 4 * C)
        self.mlp.c_proj = Conv1D(4 * C, C)

    def forward(self, x, mask):
        x = x + self.attn(self.ln_1(x), mask)
        return x + self.mlp.c_proj(gelu_new(self.mlp.c_fc(self.ln_2(x))))


class GPT2LMHeadModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.transformer = nn.Module()
        self.transformer.wte = nn.Embedding(c['vocab_size'], c['n_embd'])
        self.transformer.wpe = nn.Embedding(c['n_positions'], c['n_embd'])
        self.transformer.h = nn.ModuleList(GPT2Block(c) for _ in range(c['n_layer']))
        self.transformer.ln_f = nn.LayerNorm(c['n_embd'], eps=c['layer_norm_epsilon'])
        for ln in [self.transformer.ln_f] + [m for b in self.transformer.h for m in (b.ln_1, b.ln_2)]:
            nn.init.normal_(ln.weight, 1.0, 0.1)
            nn.init.normal_(ln.bias, 0.0, 0.1)

    def forward(self, input_ids):
        B, T = input_ids.shape
        t = self.transformer
        x = t.wte(input_ids) + t.wpe(torch.arange(T))[None]
        mask = build_mask(B, T, 0, None, x.dtype)
        for block in t.h:
            x = block(x, mask)
        return F.linear(t.ln_f(x), t.wte.weight)


def build(config):
    if config['model_type'] == 'gpt2':
        return GPT2LMHeadModel(config)
    if config['model_type'] in ('llama', 'qwen2', 'qwen3'):
        return LlamaForCausalLM(config)
    raise ValueError(f"unsupported model_type {config['model_type']}")


def masked_loss(logits, targets):
    """Mean cross-entropy over positions whose target is not -100 (tests/fixtures/README.md)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)

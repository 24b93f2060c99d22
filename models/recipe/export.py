"""Step 3: write the pretrained model in the Hugging Face layout transformers.js loads:
config.json, generation_config.json, model.safetensors (F32; tied lm_head not stored) and
onnx/model.onnx with a KV cache (inputs input_ids, attention_mask, position_ids, past_key_values.N.key/
value; outputs logits, present.N.key/value; batch axis `batch_size`, KV-head and head-dim axes fixed).
"""
import json
import os

import torch

import safetensors_io
from common import CONFIG, EOT, IM_END, MODEL_DIR, WORK, ensure_dirs
from model import LlamaForCausalLM


def load_pretrained(dtype=torch.float32):
    model = LlamaForCausalLM(CONFIG)
    model.load_state_dict(torch.load(os.environ.get('CKPT', os.path.join(WORK, 'ckpt.pt'))))
    return model.to(dtype).eval()


class OnnxWrapper(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model
        self.n = CONFIG['num_hidden_layers']

    def forward(self, input_ids, attention_mask, position_ids, *past):
        pkv = [(past[2 * i], past[2 * i + 1]) for i in range(self.n)]
        logits, presents = self.model(input_ids, attention_mask, position_ids, pkv)
        flat = []
        for k, v in presents:
            flat += [k, v]
        return (logits, *flat)


def export_onnx(model, path):
    n, nkv, hs = CONFIG['num_hidden_layers'], CONFIG['num_key_value_heads'], CONFIG['head_dim']
    B, T, past = 1, 3, 2
    ids = torch.tensor([[5, 6, 7]])
    am = torch.ones(B, past + T, dtype=torch.int64)
    pos = torch.arange(past, past + T).unsqueeze(0)
    pkv = [torch.randn(B, nkv, past, hs) for _ in range(2 * n)]
    names_in = ['input_ids', 'attention_mask', 'position_ids']
    names_out = ['logits']
    axes = {'input_ids': {0: 'batch_size', 1: 'sequence_length'},
            'attention_mask': {0: 'batch_size', 1: 'total_sequence_length'},
            'position_ids': {0: 'batch_size', 1: 'sequence_length'},
            'logits': {0: 'batch_size', 1: 'sequence_length'}}
    for i in range(n):
        for kv in ('key', 'value'):
            names_in.append(f'past_key_values.{i}.{kv}')
            names_out.append(f'present.{i}.{kv}')
            axes[f'past_key_values.{i}.{kv}'] = {0: 'batch_size', 2: 'past_sequence_length'}
            axes[f'present.{i}.{kv}'] = {0: 'batch_size', 2: 'total_sequence_length'}
    torch.onnx.export(OnnxWrapper(model), (ids, am, pos, *pkv), path, input_names=names_in, output_names=names_out,
                      dynamic_axes=axes, opset_version=14, do_constant_folding=True)


def main():
    ensure_dirs()
    model = load_pretrained()
    state = {k: v for k, v in model.state_dict().items()}
    safetensors_io.save(state, os.path.join(MODEL_DIR, 'model.safetensors'), metadata={'format': 'pt'})
    with open(os.path.join(MODEL_DIR, 'config.json'), 'w') as f:
        json.dump(CONFIG, f, indent=2)
    with open(os.path.join(MODEL_DIR, 'generation_config.json'), 'w') as f:
        json.dump({'bos_token_id': EOT, 'eos_token_id': [EOT, IM_END], 'pad_token_id': EOT,
                   'max_new_tokens': 64, 'transformers_version': '4.46.0'}, f, indent=2)
    export_onnx(model, os.path.join(MODEL_DIR, 'onnx', 'model.onnx'))
    import onnx
    m = onnx.load(os.path.join(MODEL_DIR, 'onnx', 'model.onnx'))
    onnx.checker.check_model(m)
    print('exported', [i.name for i in m.graph.input][:4], '...', os.path.getsize(os.path.join(MODEL_DIR, 'onnx', 'model.onnx')), 'bytes')


if __name__ == '__main__':
    main()

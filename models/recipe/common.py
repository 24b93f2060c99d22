"""Paths and the default model's configuration, shared by every recipe step."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
MODEL_ID = 'brown-llama-4m'
MODEL_DIR = os.path.join(ROOT, 'models', MODEL_ID)
WORK = os.path.join(HERE, 'work')  # intermediate files (git-ignored)
FIXTURES = os.path.join(ROOT, 'tests', 'fixtures')

VOCAB_SIZE = 4096
EOT, IM_START, IM_END = 0, 1, 2

# Hugging Face config.json of the default model (LlamaForCausalLM).
CONFIG = {
    'architectures': ['LlamaForCausalLM'],
    'model_type': 'llama',
    'vocab_size': VOCAB_SIZE,
    'hidden_size': 256,
    'intermediate_size': 688,
    'num_hidden_layers': 4,
    'num_attention_heads': 4,
    'num_key_value_heads': 2,
    'head_dim': 64,
    'hidden_act': 'silu',
    'max_position_embeddings': 512,
    'rms_norm_eps': 1e-5,
    'rope_theta': 10000.0,
    'rope_scaling': None,
    'attention_bias': False,
    'mlp_bias': False,
    'tie_word_embeddings': True,
    'bos_token_id': EOT,
    'eos_token_id': EOT,
    'pad_token_id': EOT,
    'initializer_range': 0.02,
    'torch_dtype': 'float32',
    'transformers_version': '4.46.0',
    'use_cache': True,
}

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def ensure_dirs():
    for d in (WORK, MODEL_DIR, os.path.join(MODEL_DIR, 'onnx'), FIXTURES):
        os.makedirs(d, exist_ok=True)

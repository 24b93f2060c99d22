"""Step 1: train the tokenizer on the training split and tokenise the corpus.

Writes models/brown-llama-4m/{tokenizer.json, tokenizer_config.json, special_tokens_map.json} and
work/tokens.npz (uint16 token streams; every document starts with <|endoftext|>).
"""
import json
import os

import numpy as np

import bpe
import corpus
from common import CHAT_TEMPLATE, EOT, MODEL_DIR, VOCAB_SIZE, WORK, ensure_dirs, MODEL_ID


def main():
    ensure_dirs()
    docs = corpus.documents()
    train_texts = [t for _, t, s in docs if s == 'train']
    vocab, merges = bpe.train(train_texts, VOCAB_SIZE)
    tok = bpe.Tokenizer(vocab, merges)
    with open(os.path.join(MODEL_DIR, 'tokenizer.json'), 'w', encoding='utf-8') as f:
        json.dump(tok.to_hf_json(), f, ensure_ascii=False)
    added = {str(i): {'content': t, 'lstrip': False, 'normalized': False, 'rstrip': False,
                      'single_word': False, 'special': True} for i, t in enumerate(bpe.SPECIAL_TOKENS)}
    with open(os.path.join(MODEL_DIR, 'tokenizer_config.json'), 'w') as f:
        json.dump({
            'add_bos_token': False,
            'add_eos_token': False,
            'add_prefix_space': False,
            'added_tokens_decoder': added,
            'additional_special_tokens': ['<|im_start|>', '<|im_end|>'],
            'bos_token': '<|endoftext|>',
            'eos_token': '<|endoftext|>',
            'pad_token': '<|endoftext|>',
            'unk_token': None,
            'chat_template': CHAT_TEMPLATE,
            'clean_up_tokenization_spaces': False,
            'model_max_length': 512,
            'tokenizer_class': 'GPT2Tokenizer',
            'name_or_path': MODEL_ID,
        }, f, indent=2)
    with open(os.path.join(MODEL_DIR, 'special_tokens_map.json'), 'w') as f:
        json.dump({'bos_token': '<|endoftext|>', 'eos_token': '<|endoftext|>', 'pad_token': '<|endoftext|>',
                   'additional_special_tokens': ['<|im_start|>', '<|im_end|>']}, f, indent=2)
    streams = {}
    for split in ('train', 'valid'):
        ids = []
        for _, text, s in docs:
            if s == split:
                ids.append(EOT)
                ids.extend(tok.encode(text))
        streams[split] = np.array(ids, dtype=np.uint16)
        print(split, len(streams[split]), 'tokens')
    np.savez(os.path.join(WORK, 'tokens.npz'), **streams)


if __name__ == '__main__':
    main()

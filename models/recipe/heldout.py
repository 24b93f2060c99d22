"""Write the built-in general corpus: the Brown samples brown-llama-4m was NOT trained on.

corpus.documents() holds out every 20th Brown sample (25 of 500, all 15 genres) as the validation
split; prepare.py trains the tokenizer and tokenises the training stream from the 'train' split only,
so neither the BPE merges nor a single training batch ever saw these samples. This script writes
exactly those 25 samples (their text only, as corpus.py reads it), separated by blank lines, to
static/corpus/brown-heldout.txt (about 300 KB). The app ships the file as its general held-out text (forgetting) and as the built-in pretraining corpus.

    python3 models/recipe/heldout.py
"""
import os

import corpus

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', '..', 'static', 'corpus', 'brown-heldout.txt')


def heldout_documents():
    """[(name, text)] of the held-out split: the samples the recipe keeps out of training."""
    return [(name, text) for name, text, split in corpus.documents() if split == 'valid']


def main():
    docs = heldout_documents()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w', encoding='utf-8') as f:
        f.write('\n\n'.join(text for _, text in docs) + '\n')
    print(len(docs), 'held-out samples:', ', '.join(n for n, _ in docs), '->', os.path.relpath(OUT), os.path.getsize(OUT), 'bytes')


if __name__ == '__main__':
    main()

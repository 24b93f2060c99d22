"""A byte-level BPE tokenizer (GPT-2 style), trained from scratch and saved as a Hugging Face
tokenizer.json that transformers.js's AutoTokenizer loads.

Pre-tokenisation is GPT-2's regex (the one tokenizers' ByteLevel pre-tokenizer uses with
use_regex=true); every byte maps to a printable unicode character (bytes_to_unicode), and merges are
learned greedily by pair frequency. `encode` applies merges by rank exactly as tokenizers' BPE model
does, so ids from this file and from transformers.js agree (tests check it).
"""
import collections
import json

import regex

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>']


def bytes_to_unicode():
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}
PAT = regex.compile(GPT2_PATTERN)


def pretokenize(text):
    return [''.join(BYTE_TO_CHAR[b] for b in piece.encode('utf-8')) for piece in PAT.findall(text)]


def train(texts, vocab_size):
    words = collections.Counter()
    for text in texts:
        words.update(pretokenize(text))
    vocab = list(SPECIAL_TOKENS) + [BYTE_TO_CHAR[b] for b in range(256)]
    seqs = [list(w) for w in words]
    freqs = [words[w] for w in words]
    pair_counts = collections.Counter()
    where = collections.defaultdict(set)
    for i, s in enumerate(seqs):
        for a, b in zip(s, s[1:]):
            pair_counts[(a, b)] += freqs[i]
            where[(a, b)].add(i)
    merges = []
    while len(vocab) < vocab_size and pair_counts:
        # Most frequent pair; ties broken by the pair itself so training is deterministic.
        best = max(pair_counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
        if pair_counts[best] < 2:
            break
        merges.append(best)
        new = best[0] + best[1]
        vocab.append(new)
        for i in list(where[best]):
            s, f = seqs[i], freqs[i]
            for a, b in zip(s, s[1:]):
                pair_counts[(a, b)] -= f
                if pair_counts[(a, b)] <= 0:
                    del pair_counts[(a, b)]
            out, j = [], 0
            while j < len(s):
                if j + 1 < len(s) and s[j] == best[0] and s[j + 1] == best[1]:
                    out.append(new)
                    j += 2
                else:
                    out.append(s[j])
                    j += 1
            seqs[i] = out
            for a, b in zip(out, out[1:]):
                pair_counts[(a, b)] += f
                where[(a, b)].add(i)
        del where[best]
    return vocab, merges


class Tokenizer:
    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.ids = {t: i for i, t in enumerate(vocab)}
        self.ranks = {tuple(m): r for r, m in enumerate(merges)}
        self.merges = merges
        self.cache = {}

    def bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            ranked = [(self.ranks.get((a, b), 1 << 30), k) for k, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, k = min(ranked)
            if rank == 1 << 30:
                break
            parts = parts[:k] + [parts[k] + parts[k + 1]] + parts[k + 2:]
        ids = [self.ids[p] for p in parts]
        self.cache[word] = ids
        return ids

    def encode(self, text):
        """Ids for `text`; special tokens written in the text are recognised, as HF does."""
        ids = []
        pattern = '(' + '|'.join(regex.escape(t) for t in SPECIAL_TOKENS) + ')'
        for chunk in regex.split(pattern, text):
            if chunk in SPECIAL_TOKENS:
                ids.append(self.ids[chunk])
            elif chunk:
                for w in pretokenize(chunk):
                    ids.extend(self.bpe(w))
        return ids

    def decode(self, ids):
        out = bytearray()
        text = []
        for i in ids:
            t = self.vocab[i]
            if t in SPECIAL_TOKENS:
                text.append(out.decode('utf-8', errors='replace'))
                out = bytearray()
                text.append(t)
            else:
                out.extend(CHAR_TO_BYTE[c] for c in t)
        text.append(out.decode('utf-8', errors='replace'))
        return ''.join(text)

    def to_hf_json(self):
        added = [{'id': i, 'content': t, 'single_word': False, 'lstrip': False, 'rstrip': False,
                  'normalized': False, 'special': True} for i, t in enumerate(SPECIAL_TOKENS)]
        return {
            'version': '1.0',
            'truncation': None,
            'padding': None,
            'added_tokens': added,
            'normalizer': None,
            'pre_tokenizer': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True},
            'post_processor': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': False, 'use_regex': True},
            'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
            'model': {
                'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': None,
                'end_of_word_suffix': None, 'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
                'vocab': {t: i for i, t in enumerate(self.vocab)},
                'merges': [f'{a} {b}' for a, b in self.merges],
            },
        }

    @staticmethod
    def from_hf_json(path):
        with open(path, encoding='utf-8') as f:
            j = json.load(f)
        vocab = [None] * len(j['model']['vocab'])
        for t, i in j['model']['vocab'].items():
            vocab[i] = t
        merges = [tuple(m.split(' ')) if isinstance(m, str) else tuple(m) for m in j['model']['merges']]
        return Tokenizer(vocab, merges)

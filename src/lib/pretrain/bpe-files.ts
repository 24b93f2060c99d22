// A trained byte-level BPE (bpe.ts) as the Hugging Face files a model folder carries — tokenizer.json,
// tokenizer_config.json, special_tokens_map.json — laid out as the shipped model's
// (models/brown-llama-4m/, written by the recipe's bpe.py): transformers.js's AutoTokenizer and
// transformers' AutoTokenizer load them, and the chat template and special tokens are the shipped ones.

import { SPECIAL_TOKENS, type BpeTokenizer } from './bpe.ts';
import type { TokenizerSpec } from './create.ts';
import type { FolderFile } from './folder.ts';

/** The shipped model's chat template (ChatML), so chat data renders the same with a trained tokenizer. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/** Vocabulary size and special ids of a trained tokenizer, for config.json (the special ids are the shipped ones). */
export function bpeTokenizerSpec(tok: BpeTokenizer): TokenizerSpec {
  return { vocabSize: tok.vocab.length, bosTokenId: 0, eosTokenIds: [0, 2], padTokenId: 0 };
}

const addedToken = (content: string) => ({ content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true });

/** tokenizer.json text: the vocabulary written in id order, merges as "a b" (no token holds a space: it is Ġ). */
export function tokenizerJson(tok: BpeTokenizer): string {
  const byteLevel = (addPrefixSpace: boolean, trimOffsets: boolean) => ({ type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: trimOffsets, use_regex: true });
  const doc = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((t, id) => ({ id, ...addedToken(t) })),
    normalizer: null,
    pre_tokenizer: byteLevel(false, true),
    post_processor: byteLevel(true, false),
    decoder: byteLevel(true, true),
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: '\u0000VOCAB',
      merges: tok.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  // An object would reorder integer-like keys ("0", "10"): the vocabulary is written by hand, in id order.
  const vocab = '{' + tok.vocab.map((t, i) => `${JSON.stringify(t)}: ${i}`).join(', ') + '}';
  return JSON.stringify(doc).replace(JSON.stringify('\u0000VOCAB'), () => vocab) + '\n';
}

/** tokenizer_config.json: the shipped one's settings (no BOS added, <|endoftext|> ends text), this model's name and length. */
export function tokenizerConfigJson(name: string, modelMaxLength: number): Record<string, unknown> {
  return {
    add_bos_token: false,
    add_eos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries(SPECIAL_TOKENS.map((t, id) => [String(id), addedToken(t)])),
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
    bos_token: '<|endoftext|>',
    eos_token: '<|endoftext|>',
    pad_token: '<|endoftext|>',
    unk_token: null,
    chat_template: CHATML_TEMPLATE,
    clean_up_tokenization_spaces: false,
    model_max_length: modelMaxLength,
    tokenizer_class: 'GPT2Tokenizer',
    name_or_path: name,
  };
}

/** special_tokens_map.json, as the shipped model's. */
export const SPECIAL_TOKENS_MAP = {
  bos_token: '<|endoftext|>',
  eos_token: '<|endoftext|>',
  pad_token: '<|endoftext|>',
  additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
};

/** The three tokenizer files of a model folder (folder.ts TOKENIZER_FILE_NAMES). */
export function bpeTokenizerFiles(tok: BpeTokenizer, o: { name: string; modelMaxLength: number }): FolderFile[] {
  const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';
  return [
    { name: 'tokenizer.json', data: tokenizerJson(tok) },
    { name: 'tokenizer_config.json', data: json(tokenizerConfigJson(o.name, o.modelMaxLength)) },
    { name: 'special_tokens_map.json', data: json(SPECIAL_TOKENS_MAP) },
  ];
}

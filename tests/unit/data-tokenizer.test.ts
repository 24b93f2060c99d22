// The data layer with the shipped default model's real tokenizer and chat_template (transformers.js),
// loaded from models/ with no network.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import {
  chatTemplateFromTokenizer,
  type ChatTemplateFn,
  fromTransformersTokenizer,
  packExamples,
  parseDatasetText,
  previewTokenized,
  SAMPLE_DATASETS,
  type TextTokenizer,
  tokenizeExamples,
  tokenView,
} from '../../src/lib/data';

const MODELS = join(__dirname, '../../models');

let hf: PreTrainedTokenizer;
let tok: TextTokenizer;
let chat: ChatTemplateFn;

beforeAll(async () => {
  env.allowRemoteModels = false;
  env.localModelPath = MODELS + '/';
  hf = await AutoTokenizer.from_pretrained('brown-llama-4m');
  tok = fromTransformersTokenizer(hf);
  chat = chatTemplateFromTokenizer(hf);
}, 60_000);

describe('the default tokenizer through the data layer', () => {
  it('encodes as the recipe tokenizer did (tests/fixtures/tokenizer.json)', () => {
    const cases: { text: string; ids: number[] }[] = JSON.parse(readFileSync(join(__dirname, '../fixtures/tokenizer.json'), 'utf8'));
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) expect(tok.encode(c.text)).toEqual(c.ids);
  });

  it('adds no BOS; EOS and PAD are <|endoftext|> as tokenizer_config.json says', () => {
    const config = JSON.parse(readFileSync(join(MODELS, 'brown-llama-4m/tokenizer_config.json'), 'utf8'));
    expect(config.add_bos_token).toBe(false);
    expect(tok.bosIds).toEqual([]);
    expect(tok.decode([tok.eosId!])).toBe(config.eos_token);
    expect(tok.decode([tok.padId])).toBe(config.pad_token);
  });

  it('renders {messages} with the chat_template, special tokens as single tokens, loss on assistant turns only', async () => {
    const d = await parseDatasetText(
      JSON.stringify({
        messages: [
          { role: 'user', content: 'What is two plus two?' },
          { role: 'assistant', content: 'Four.' },
          { role: 'user', content: 'And three plus three?' },
          { role: 'assistant', content: 'Six.' },
        ],
      }),
      'chat.jsonl',
    );
    const { examples, problems } = await tokenizeExamples(d.examples, tok, { chatTemplate: chat });
    expect(problems).toEqual([]);
    const t = examples[0];
    // The ids are the template's full rendering, tokenized piece by piece.
    const full = hf.apply_chat_template(
      (d.examples[0] as { messages: { role: string; content: string }[] }).messages,
      { tokenize: false, add_generation_prompt: false },
    ) as string;
    expect(tok.decode(Array.from(t.ids))).toBe(full);
    const imStart = hf.encode('<|im_start|>', { add_special_tokens: false });
    const imEnd = hf.encode('<|im_end|>', { add_special_tokens: false });
    expect(imStart).toHaveLength(1);
    expect(imEnd).toHaveLength(1);
    expect(Array.from(t.ids).filter((id) => id === imStart[0])).toHaveLength(4);
    // What the loss counts, decoded: each assistant answer with its end-of-turn.
    const view = tokenView(t, tok);
    const counted = view.filter((v) => v.counted).map((v) => v.text).join('');
    expect(counted).toBe('Four.<|im_end|>\nSix.<|im_end|>\n');
  });

  it('prompt-completion: the loss counts the completion and the EOS after it', async () => {
    const d = await parseDatasetText(JSON.stringify({ prompt: 'Question: What is rain?\nAnswer:', completion: ' Water from clouds.' }), 'qa.jsonl');
    const { examples } = await tokenizeExamples(d.examples, tok);
    const counted = tokenView(examples[0], tok).filter((v) => v.counted).map((v) => v.text).join('');
    expect(counted).toBe(' Water from clouds.<|endoftext|>');
    // The prompt is tokenized alone, exactly as the prompt typed at generation time is.
    const promptIds = tok.encode('Question: What is rain?\nAnswer:');
    expect(Array.from(examples[0].ids.subarray(0, promptIds.length))).toEqual(promptIds);
  });

  for (const s of SAMPLE_DATASETS) {
    it(`sample ${s.file} fits the default model's training rows of 128 tokens without truncation`, async () => {
      const text = readFileSync(join(__dirname, '../../static/samples', s.file), 'utf8');
      const d = await parseDatasetText(text, s.file);
      const { examples, problems } = await tokenizeExamples(d.examples, tok, { chatTemplate: chat });
      expect(problems).toEqual([]);
      const preview = previewTokenized(examples, { seqLen: 128, padId: tok.padId, format: d.format! });
      expect(preview.warnings).toEqual([]);
      expect(preview.countedTokens).toBeGreaterThan(0);
      const packed = packExamples(examples, { seqLen: 128, mode: preview.packMode, padId: tok.padId });
      expect(packed.rows).toBe(preview.rows);
      // Every counted target is a real token id of the vocabulary.
      for (const t of packed.targets) if (t !== -100) expect(t).toBeLessThan(4096);
    });
  }
});

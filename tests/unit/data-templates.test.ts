// Examples → segments → tokens with loss flags, with a byte-level tokenizer and a hand-written ChatML.
import { describe, expect, it } from 'vitest';
import {
  alpacaPrompt,
  type ChatMessage,
  type Example,
  fromTransformersTokenizer,
  renderExample,
  renderMessages,
  tokenizeExamples,
  tokenizeSegments,
  TemplateError,
  tokenView,
} from '../../src/lib/data';
import { byteTokenizer, chatml, SPECIALS } from './data-fake-tokenizer';

const where = { file: 't.jsonl', unit: 'line' as const, index: 1, line: 1 };

/** The text of the trainable segments, joined. */
const trainableText = (segs: { text: string; trainable: boolean }[]) =>
  segs.filter((s) => s.trainable).map((s) => s.text).join('|');

describe('segments per format', () => {
  it('text: everything trainable, BOS and EOS added', () => {
    const r = renderExample({ where, format: 'text', text: 'hello' });
    expect(r).toEqual({ segments: [{ text: 'hello', trainable: true }], appendEos: true, prependBos: true });
  });

  it('prompt-completion: only the completion is trainable', () => {
    const r = renderExample({ where, format: 'prompt-completion', prompt: 'Q: hi\nA:', completion: ' hello' });
    expect(r.segments).toEqual([
      { text: 'Q: hi\nA:', trainable: false },
      { text: ' hello', trainable: true },
    ]);
    expect(r.appendEos).toBe(true);
  });

  it('alpaca: the Alpaca prompt is not trainable, the output is', () => {
    const r = renderExample({ where, format: 'alpaca', instruction: 'Add the numbers.', input: '2 and 3', output: '5' });
    expect(r.segments[0].trainable).toBe(false);
    expect(r.segments[0].text).toContain('### Instruction:\nAdd the numbers.\n\n### Input:\n2 and 3\n\n### Response:\n');
    expect(r.segments[1]).toEqual({ text: '5', trainable: true });
    // Without input, the shorter prompt with no Input section.
    expect(alpacaPrompt('Say hi.', '')).not.toContain('### Input');
    // User text with $-patterns is kept literally.
    expect(alpacaPrompt('Cost: $& and $1', '')).toContain('Cost: $& and $1');
  });

  it('messages: assistant turns (content and end-of-turn) are trainable, the rest is not', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'Bye' },
      { role: 'assistant', content: 'Goodbye.' },
    ];
    const segs = renderMessages(messages, chatml);
    // Joined, the segments are exactly the template's rendering.
    expect(segs.map((s) => s.text).join('')).toBe(chatml(messages, false));
    expect(trainableText(segs)).toBe('Hello!<|im_end|>\n|Goodbye.<|im_end|>\n');
    expect(segs.filter((s) => !s.trainable).map((s) => s.text)).toEqual([
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
      '<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n',
    ]);
    const r = renderExample({ where, format: 'messages', messages }, { chatTemplate: chatml });
    expect(r.appendEos).toBe(false);
    expect(r.prependBos).toBe(false);
  });

  it('messages without a chat template: a clear error', () => {
    expect(() => renderExample({ where, format: 'messages', messages: [{ role: 'assistant', content: 'x' }] })).toThrow(
      /no chat_template/,
    );
  });

  it('a template that rewrites earlier turns is refused rather than masked wrongly', () => {
    // Renders the last user turn differently from earlier ones: not prefix-stable.
    const unstable = (ms: ChatMessage[], gen: boolean) =>
      ms.map((m, i) => (i === ms.length - 1 ? `[${m.role}:${m.content}]` : `(${m.role}:${m.content})`)).join('') + (gen ? '>' : '');
    expect(() =>
      renderMessages(
        [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: 'b' },
        ],
        unstable,
      ),
    ).toThrow(TemplateError);
  });

  it('a preference pair is not a supervised example, and says so', () => {
    const ex: Example = { where, format: 'preference', prompt: 'p', chosen: 'good', rejected: 'bad' };
    expect(() => renderExample(ex)).toThrow(/Supervised fine-tuning cannot train on it/);
  });
});

describe('tokenizing segments into ids and loss flags', () => {
  const tok = byteTokenizer({ bos: true });

  it('each token carries its segment flag; BOS is not trainable, EOS follows the last segment', () => {
    const t = tokenizeSegments(
      [
        { text: 'ab', trainable: false },
        { text: 'c', trainable: true },
      ],
      tok,
      { prependBos: true, appendEos: true },
      where,
    );
    const b = (ch: string) => ch.charCodeAt(0) + 3;
    expect(Array.from(t.ids)).toEqual([1, b('a'), b('b'), b('c'), 2]);
    expect(Array.from(t.trainable)).toEqual([0, 0, 0, 1, 1]);
  });

  it('chat special tokens written by the template are single tokens, and the mask follows the turns', () => {
    const segs = renderMessages(
      [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: 'y' },
      ],
      chatml,
    );
    const t = tokenizeSegments(segs, tok, { prependBos: false, appendEos: false }, where);
    const view = tokenView(t, tok);
    const counted = view.filter((v) => v.counted).map((v) => v.text).join('');
    expect(counted).toBe('y<|im_end|>\n');
    expect(view.filter((v) => v.id === SPECIALS['<|im_start|>'])).toHaveLength(2);
  });

  it('tokenizeExamples names examples that cannot be rendered instead of dropping them', async () => {
    const examples: Example[] = [
      { where, format: 'text', text: 'ok' },
      { where: { ...where, index: 2, line: 2 }, format: 'messages', messages: [{ role: 'assistant', content: 'x' }] },
    ];
    const r = await tokenizeExamples(examples, tok, {});
    expect(r.examples).toHaveLength(1);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ where: { index: 2 }, severity: 'error' });
    expect(r.problems[0].message).toMatch(/no chat_template/);
  });

  it('fromTransformersTokenizer finds the BOS a tokenizer adds, and none when it adds none', () => {
    const base = byteTokenizer();
    const make = (bos: number[]) => ({
      encode: (text: string, o?: { add_special_tokens?: boolean }) => [...(o?.add_special_tokens === false ? [] : bos), ...base.encode(text)],
      decode: (ids: number[]) => base.decode(ids),
      eos_token_id: 2,
      pad_token_id: null,
    });
    const withBos = fromTransformersTokenizer(make([1]));
    expect(withBos.bosIds).toEqual([1]);
    expect(withBos.padId).toBe(2); // no pad token: EOS fills unused positions
    expect(withBos.encode('a')).toEqual(base.encode('a'));
    expect(fromTransformersTokenizer(make([])).bosIds).toEqual([]);
  });
});

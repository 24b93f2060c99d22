// How evaluated prompts are written besides their shots (lib/eval/prompting.ts, prepare.ts): the chat
// template on (a prompt becomes the user turn, its answer the assistant turn), a system prompt, and a
// column prepared with both, on a byte tokenizer so the rendered text and the counted tokens can be
// read off directly.
import { describe, expect, it } from 'vitest';
import type { Example } from '../../src/lib/data';
import { prepareColumn } from '../../src/lib/eval/prepare.ts';
import { asConversation, withSystem } from '../../src/lib/eval/prompting.ts';
import { byteTokenizer, chatml } from './data-fake-tokenizer.ts';

const where = (index: number) => ({ file: 'qa.jsonl', unit: 'line' as const, index, line: index });
const pc = (i: number, prompt: string, completion: string): Example => ({ where: where(i), format: 'prompt-completion', prompt, completion });
const tok = byteTokenizer();
const counted = (ids: Int32Array, targets: Int32Array) => tok.decode(Array.from(targets).filter((t) => t >= 0));

describe('prompt style', () => {
  it('chat on: a prompt/completion is one user turn and the answer the assistant turn; alpaca joins instruction and input', () => {
    expect(asConversation(pc(1, 'Q?', ' A.'))).toEqual({ where: where(1), format: 'messages', messages: [{ role: 'user', content: 'Q?' }, { role: 'assistant', content: ' A.' }] });
    const alpaca: Example = { where: where(2), format: 'alpaca', instruction: 'Add', input: '1 2', output: '3' };
    expect(asConversation(alpaca)).toMatchObject({ messages: [{ role: 'user', content: 'Add\n\n1 2' }, { role: 'assistant', content: '3' }] });
    const text: Example = { where: where(3), format: 'text', text: 'plain' };
    expect(asConversation(text)).toBe(text);
  });

  it('a system prompt leads a conversation (replacing its own) and moves where the query starts; text prompts get it with a blank line', () => {
    const talk: Example = { where: where(1), format: 'messages', messages: [{ role: 'system', content: 'old' }, { role: 'user', content: 'u' }, { role: 'assistant', content: 'a' }] };
    const s = withSystem(talk, 1, 'new');
    expect(s.example).toMatchObject({ messages: [{ role: 'system', content: 'new' }, { role: 'user', content: 'u' }, { role: 'assistant', content: 'a' }] });
    expect(s.countFrom).toBe(1);
    const bare: Example = { where: where(1), format: 'messages', messages: [{ role: 'user', content: 'u' }, { role: 'assistant', content: 'a' }] };
    expect(withSystem(bare, 0, 'sys').countFrom).toBe(1);
    expect(withSystem(pc(1, 'Q?', ' A.'), 0, 'Be brief.').example).toMatchObject({ prompt: 'Be brief.\n\nQ?', completion: ' A.' });
    expect(withSystem(pc(1, 'Q?', ' A.'), 0, '').example).toEqual(pc(1, 'Q?', ' A.'));
  });
});

describe('a column prepared with a prompt style', () => {
  const test = [pc(1, 'Q: sun?\nA:', ' star'), pc(2, 'Q: moon?\nA:', ' rock')];
  const pool = [pc(3, 'Q: sea?\nA:', ' salt'), pc(4, 'Q: cat?\nA:', ' meow')];

  it('chat template and system prompt: the prompt is the template up to the assistant turn; only the answer and its end of turn count', () => {
    const col = prepareColumn(test, [], tok, { chatTemplate: chatml, maxPositions: 512, prompt: { chat: true, system: 'Be a pirate.' }, shots: null });
    expect(col.problems).toEqual([]);
    const item = col.items[0];
    expect(item.prompt).toBe('<|im_start|>system\nBe a pirate.<|im_end|>\n<|im_start|>user\nQ: sun?\nA:<|im_end|>\n<|im_start|>assistant\n');
    expect(item.reference).toBe(' star');
    expect(counted(item.ids, item.targets)).toBe(' star<|im_end|>\n');
  });

  it('k shots with the chat template are earlier user/assistant turns after the system message, not counted', () => {
    const col = prepareColumn(test, pool, tok, { chatTemplate: chatml, maxPositions: 512, prompt: { chat: true, system: 'S' }, shots: { k: 2, pick: 'random', seed: 0 } });
    const item = col.items[1];
    expect(item.shots).toBe(2);
    expect(item.prompt!.startsWith('<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ: ')).toBe(true);
    expect(item.prompt!.match(/<\|im_start\|>assistant\n/g)).toHaveLength(3);
    expect(counted(item.ids, item.targets)).toBe(' rock<|im_end|>\n');
  });

  it('without the template the system prompt comes first, then the shots, then the prompt', () => {
    const col = prepareColumn(test, pool, tok, { chatTemplate: null, maxPositions: 512, prompt: { chat: false, system: 'S' }, shots: { k: 1, pick: 'similar', seed: 0 } });
    expect(col.items[0].prompt).toMatch(/^S\n\nQ: (sea|cat)\?\nA: (salt|meow)\n\nQ: sun\?\nA:$/);
  });

  it('refuses the chat template on a model without one, and names an example that does not fit', () => {
    expect(() => prepareColumn(test, [], tok, { chatTemplate: null, maxPositions: 512, prompt: { chat: true, system: '' }, shots: null })).toThrow(/no chat_template/);
    const col = prepareColumn(test, [], tok, { chatTemplate: null, maxPositions: 12, shots: null });
    expect(col.items).toEqual([]);
    expect(col.problems[0]).toMatch(/qa\.jsonl.*longer than the 12 positions/);
  });
});

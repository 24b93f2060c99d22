// k-shot prompts and evaluation items: what the model is shown, which tokens count, where generation
// starts and what it is scored against, on a byte tokenizer (one token per byte) so every position can
// be checked by hand.
import { describe, expect, it } from 'vitest';
import type { Example } from '../../src/lib/data';
import { prepareItem } from '../../src/lib/eval/items.ts';
import { pickShots, SHOT_SEPARATOR, withShots } from '../../src/lib/eval/shots.ts';
import { byteTokenizer, chatml } from './data-fake-tokenizer.ts';

const where = (index: number) => ({ file: 'qa.jsonl', unit: 'line' as const, index, line: index });
const pc = (i: number, prompt: string, completion: string): Example => ({ where: where(i), format: 'prompt-completion', prompt, completion });

const pool = [
  pc(1, 'Q: What is the sun?\nA:', ' a star'),
  pc(2, 'Q: What is the moon?\nA:', ' a rock'),
  pc(3, 'Q: Why is the sea salty?\nA:', ' rivers'),
  pc(4, 'Q: What is a cat?\nA:', ' an animal'),
  pc(5, 'Q: Who wrote this?\nA:', ' nobody'),
];

describe('picking shots', () => {
  it('random: k distinct examples of the pool, the same for the same seed and index, never the query itself', () => {
    const query = pool[0];
    const a = pickShots(pool, query, 0, { k: 3, pick: 'random', seed: 7 });
    expect(a).toHaveLength(3);
    expect(new Set(a).size).toBe(3);
    expect(a).not.toContain(query);
    expect(pickShots(pool, query, 0, { k: 3, pick: 'random', seed: 7 })).toEqual(a);
    // Other indices draw other shots (at least one of several differs).
    const draws = [1, 2, 3, 4].map((i) => pickShots(pool, query, i, { k: 3, pick: 'random', seed: 7 }));
    expect(draws.some((d) => JSON.stringify(d) !== JSON.stringify(a))).toBe(true);
  });

  it('similar: the prompts sharing most words, the most similar last (next to the question)', () => {
    const query = pc(9, 'Q: What is the big moon?\nA:', ' x');
    const shots = pickShots(pool, query, 0, { k: 2, pick: 'similar', seed: 0 });
    expect(shots[1]).toBe(pool[1]); // "what is the moon" shares five of six words
    expect([pool[0], pool[3]]).toContain(shots[0]);
  });

  it('k = 0 and plain text give no shots', () => {
    expect(pickShots(pool, pool[0], 0, { k: 0, pick: 'random', seed: 0 })).toEqual([]);
    const text: Example = { where: where(1), format: 'text', text: 'hello there' };
    expect(pickShots([text, text], text, 0, { k: 2, pick: 'random', seed: 0 })).toEqual([]);
  });
});

describe('evaluation items', () => {
  const tok = byteTokenizer({ bos: true });
  const bytes = (s: string) => [...new TextEncoder().encode(s)].map((b) => b + 3);

  it('zero-shot prompt/completion: BOS + prompt is the generation prompt; completion and EOS are counted', () => {
    const item = prepareItem(pool[0], [], tok, { chatTemplate: null, maxPositions: 512 });
    const prompt = [1, ...bytes('Q: What is the sun?\nA:')];
    expect(item.promptIds).toEqual(prompt);
    expect(Array.from(item.ids)).toEqual([...prompt, ...bytes(' a star'), 2]);
    const counted = Array.from(item.targets).filter((t) => t !== -100);
    expect(counted).toEqual([...bytes(' a star'), 2]);
    // targets[t] is ids[t+1], counted from the last prompt position on.
    expect(item.targets[prompt.length - 2]).toBe(-100);
    expect(item.targets[prompt.length - 1]).toBe(bytes(' a star')[0]);
    expect(item.reference).toBe(' a star');
    expect(item.prompt).toBe('<s>Q: What is the sun?\nA:');
    expect(item.shots).toBe(0);
  });

  it('k-shot: the solved shots and a blank line before the prompt, not counted; the same tokens counted as zero-shot', () => {
    const shots = [pool[1], pool[2]];
    const item = prepareItem(pool[0], shots, tok, { chatTemplate: null, maxPositions: 512 });
    const zero = prepareItem(pool[0], [], tok, { chatTemplate: null, maxPositions: 512 });
    expect(item.prompt).toBe('<s>Q: What is the moon?\nA: a rock' + SHOT_SEPARATOR + 'Q: Why is the sea salty?\nA: rivers' + SHOT_SEPARATOR + 'Q: What is the sun?\nA:');
    expect(Array.from(item.targets).filter((t) => t !== -100)).toEqual(Array.from(zero.targets).filter((t) => t !== -100));
    expect(item.shots).toBe(2);
  });

  it('drops the farthest shots until the sequence fits, and names an example that never fits', () => {
    const zero = prepareItem(pool[0], [], tok, { chatTemplate: null, maxPositions: 512 });
    const oneShot = prepareItem(pool[0], [pool[2]], tok, { chatTemplate: null, maxPositions: 512 });
    const item = prepareItem(pool[0], [pool[1], pool[2]], tok, { chatTemplate: null, maxPositions: oneShot.ids.length });
    expect(item.shots).toBe(1);
    expect(Array.from(item.ids)).toEqual(Array.from(oneShot.ids));
    expect(() => prepareItem(pool[0], [], tok, { chatTemplate: null, maxPositions: zero.ids.length - 1 })).toThrow(
      `qa.jsonl, line 1: ${zero.ids.length} tokens, longer than the ${zero.ids.length - 1} positions the model takes`,
    );
  });

  it("conversations: shots' turns after the system prompt; only the query's last assistant turn is counted and generated", () => {
    const chat = (i: number, q: string, a: string): Example => ({
      where: where(i),
      format: 'messages',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: q },
        { role: 'assistant', content: a },
      ],
    });
    const query = chat(1, 'Sun?', 'Star.');
    const { example, countFrom } = withShots(query, [chat(2, 'Moon?', 'Rock.')]);
    expect(example.format === 'messages' && example.messages.map((m) => m.content)).toEqual(['Be brief.', 'Moon?', 'Rock.', 'Sun?', 'Star.']);
    expect(countFrom).toBe(3);
    const item = prepareItem(query, [chat(2, 'Moon?', 'Rock.')], tok, { chatTemplate: chatml, maxPositions: 512 });
    expect(item.prompt).toBe(chatml(example.format === 'messages' ? example.messages.slice(0, 4) : [], true));
    expect(item.reference).toBe('Star.');
    const counted = Array.from(item.targets).filter((t) => t !== -100);
    expect(tok.decode(counted)).toBe('Star.<|im_end|>\n');
    expect(() => prepareItem(query, [], tok, { chatTemplate: null, maxPositions: 512 })).toThrow(/^qa\.jsonl, line 1: this model has no chat_template/);
  });

  it('plain text: everything counted, nothing generated', () => {
    const item = prepareItem({ where: where(1), format: 'text', text: 'hi' }, [], tok, { chatTemplate: null, maxPositions: 512 });
    expect(item.promptIds).toBeNull();
    expect(item.reference).toBeNull();
    expect(Array.from(item.targets).filter((t) => t !== -100)).toEqual([...bytes('hi'), 2]);
  });
});

// A byte-level tokenizer for tests that do not need the real model: every UTF-8 byte is one token
// (id = byte + 3), with PAD 0, BOS 1, EOS 2 and two ChatML special tokens recognised in the text.
import type { ChatMessage } from '../../src/lib/data';
import type { TextTokenizer } from '../../src/lib/data';

export const SPECIALS: Record<string, number> = { '<|im_start|>': 259, '<|im_end|>': 260 };

export function byteTokenizer(opts: { bos?: boolean } = {}): TextTokenizer {
  const enc = new TextEncoder();
  const names = Object.keys(SPECIALS);
  return {
    encode(text: string): number[] {
      const ids: number[] = [];
      let i = 0;
      while (i < text.length) {
        const special = names.find((n) => text.startsWith(n, i));
        if (special) {
          ids.push(SPECIALS[special]);
          i += special.length;
          continue;
        }
        let j = i;
        while (j < text.length && !names.some((n) => text.startsWith(n, j))) j++;
        for (const b of enc.encode(text.slice(i, j))) ids.push(b + 3);
        i = j;
      }
      return ids;
    },
    decode(ids: number[]): string {
      const bytes: number[] = [];
      let out = '';
      const flush = () => {
        out += new TextDecoder().decode(new Uint8Array(bytes));
        bytes.length = 0;
      };
      for (const id of ids) {
        const special = names.find((n) => SPECIALS[n] === id);
        if (special) (flush(), (out += special));
        else if (id === 1) (flush(), (out += '<s>'));
        else if (id === 2) (flush(), (out += '</s>'));
        else if (id >= 3) bytes.push(id - 3);
      }
      flush();
      return out;
    },
    bosIds: opts.bos ? [1] : [],
    eosId: 2,
    padId: 0,
  };
}

/** ChatML as its usual Jinja template renders it, written out by hand. */
export function chatml(messages: ChatMessage[], addGenerationPrompt: boolean): string {
  let s = '';
  for (const m of messages) s += `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`;
  if (addGenerationPrompt) s += '<|im_start|>assistant\n';
  return s;
}

// Prompt + answer → the packed row a reward model scores, tokenized exactly as a text preference pair's
// chosen sequence is in training (data/templates.ts, data/tokenize.ts): BOS, the prompt (not
// counted), the answer (counted) and EOS — which is what a {prompt, completion} example renders to.
// The counted tokens only mark where the answer ends: the reward head reads the last one's hidden state.
import { tokenizeExamples, type TextTokenizer } from '../data/tokenize.ts';
import { packExamples, type PackedRows } from '../data/pack.ts';
import type { ChatTemplateFn } from '../data/templates.ts';
import type { Example } from '../data/formats.ts';

export interface PromptAnswer {
  prompt: string;
  answer: string;
}

/** One row per item, in order (T positions each; longer sequences are cut as training cuts them). */
export async function packAnswers(
  items: readonly PromptAnswer[],
  tok: TextTokenizer,
  T: number,
  chatTemplate: ChatTemplateFn | null = null,
): Promise<PackedRows> {
  const examples: Example[] = items.map((it, index) => ({
    where: { file: 'answers', unit: 'item', index, line: index + 1 },
    format: 'prompt-completion',
    prompt: it.prompt,
    completion: it.answer,
  }));
  const t = await tokenizeExamples(examples, tok, { chatTemplate });
  if (t.problems.length) throw new Error(`answer ${t.problems[0].where.index + 1}: ${t.problems[0].message}`);
  const packed = packExamples(t.examples, { seqLen: T, mode: 'pad', padId: tok.padId });
  if (packed.rows !== items.length) {
    const i = packed.leftOut[0]?.index ?? 0;
    throw new Error(`answer ${i + 1} has no token to score after the prompt (is it empty, or is the prompt longer than ${T} tokens?)`);
  }
  return packed;
}

// `lora-playground score`: a reward model (a PEFT adapter saved with task_type SEQ_CLS and its "score"
// head, e.g. by `train --objective reward`) rates an answer to a prompt — the page's score
// box without the page: the same reader, the same tokenization as training pairs, the same engine.

import { hasScoreHead } from '../lib/adapters/config.ts';
import { DEFAULTS } from '../lib/train/config.ts';
import { scoreAnswers } from '../lib/rewards/model.ts';
import type { Command, Parsed } from './args.ts';
import { attachAdapter, InputError, loadModel } from './model.ts';
import type { Reporter } from './output.ts';

const flags = {
  model: { kind: 'string', value: 'DIR', required: true, help: 'model folder in the Hugging Face layout' },
  adapter: { kind: 'string', value: 'DIR', required: true, help: 'the reward model: a PEFT adapter with task_type SEQ_CLS and modules_to_save ["score"] (folder or .zip)' },
  prompt: { kind: 'string', value: 'TEXT', required: true, help: 'the prompt the answers reply to' },
  answer: { kind: 'string', value: 'TEXT', required: true, help: 'the answer to rate' },
  seqLen: { kind: 'int', min: 2, help: `positions per row: longer prompt + answer is cut as training cuts it (${DEFAULTS.training.max_length})` },
} as const;

export const scoreCommand: Command<typeof flags> = {
  name: 'score',
  summary: 'rate a prompt + answer with a reward model (an adapter trained with --objective reward)',
  description:
    'The reward is the score head on the last token\'s final hidden state, as in training: higher means preferred.\n' +
    'With --json the last line is {"event":"result","command":"score","rewards":[{"answer","reward"},…],…}.',
  flags,
  examples: [
    'lora-playground score --model models/brown-llama-4m --adapter rm/ --prompt "The jury said that the" --answer " election was fair."',
    'lora-playground score --model models/brown-llama-4m --adapter rm/ --prompt "Q" --answer " yes" --json',
  ],
};

export async function runScore(args: Parsed<typeof flags>, out: Reporter): Promise<void> {
  const answers = [args.answer];
  if (answers.some((a) => a.trim() === '')) throw new InputError('an answer is empty: give the text to rate');
  const model = await loadModel(args.model, out);
  try {
    const method = await attachAdapter(model, args.adapter, out);
    if (!hasScoreHead(method)) {
      throw new InputError(`--adapter ${args.adapter}: this adapter has no score head (task_type SEQ_CLS, modules_to_save ["score"]): it is a language model's adapter, not a reward model`);
    }
    const T = args.seqLen ?? DEFAULTS.training.max_length;
    const rewards = await scoreAnswers(model.engine, model.tokenizer.tokenizer, answers.map((answer) => ({ prompt: args.prompt, answer })), T, model.tokenizer.chatTemplate);
    out.result(
      'score',
      { model: model.id, adapter: args.adapter, prompt: args.prompt, rewards: answers.map((answer, i) => ({ answer, reward: rewards[i] })) },
      { note: answers.map((a, i) => `${rewards[i].toFixed(4)}  ${JSON.stringify(a)}`) },
    );
  } finally {
    model.destroy();
  }
}

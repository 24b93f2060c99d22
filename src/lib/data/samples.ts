// Built-in sample datasets, served from static/samples/ (Vite's publicDir) at `<base>samples/<file>`.
// All written for this project (no third-party text). Small enough for a 4M-parameter model to learn
// a visible change in a few hundred steps.

import type { DatasetFormat } from './formats';

export interface SampleDataset {
  id: string;
  /** File name under static/samples/; fetch `${base}samples/${file}`. */
  file: string;
  title: string;
  description: string;
  format: DatasetFormat;
  examples: number;
}

export const SAMPLE_DATASETS: readonly SampleDataset[] = [
  {
    id: 'pirate-qa',
    file: 'pirate-qa.jsonl',
    title: 'Pirate Q&A',
    description:
      'Short questions answered in a pirate voice ("Question: …\\nAnswer:" → " Arr, …, matey!"). The loss counts only the answers; after tuning, answers take on the style.',
    format: 'prompt-completion',
    examples: 32,
  },
  {
    id: 'pip-chat',
    file: 'pip-chat.jsonl',
    title: 'Pip, a cheerful assistant',
    description:
      "Short chats with an assistant named Pip, rendered with the model's chat template; the loss counts only Pip's turns.",
    format: 'messages',
    examples: 24,
  },
  {
    id: 'pirate-prefs',
    file: 'pirate-prefs.jsonl',
    title: 'Pirate preferences',
    description:
      'The Pirate Q&A questions as preference pairs: the pirate answer is chosen, the same answer in plain English rejected. For DPO, SimPO, ORPO or a reward model.',
    format: 'preference',
    examples: 32,
  },
  {
    id: 'small-fables',
    file: 'small-fables.txt',
    title: 'Small fables',
    description: 'Eighteen short fables in plain English, one per paragraph; the loss counts every token.',
    format: 'text',
    examples: 18,
  },
];

/** The URL of a sample relative to the app's base (Vite's import.meta.env.BASE_URL, './' here). */
export function sampleUrl(sample: SampleDataset, base = './'): string {
  return `${base.endsWith('/') ? base : `${base}/`}samples/${sample.file}`;
}

// `raft --reward ranking`'s questions and answers without a model: the samples as a person reads them
// on stderr, one answer line per prompt from stdin, a bad line named and asked again, and the end of
// input named (the CLI test drives the real command through --json).
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { humanReporter } from '../../src/cli/output.ts';
import { stdinRanking } from '../../src/cli/ranking.ts';

const question = { round: 1, groups: [{ prompt: 'A', answers: [' x', ' y', ' z'] }, { prompt: 'B', answers: [' u', '', ' w'] }] };

function capture() {
  let stdout = '';
  let stderr = '';
  const out = humanReporter({ stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { out, stdout: () => stdout, stderr: () => stderr };
}

describe('the ranking on the command line', () => {
  it('prints the numbered samples on stderr and reads one line per prompt, asking again after a bad one', async () => {
    const io = capture();
    const { ask, close } = stdinRanking(Readable.from(['2\n', '3 3 1\n', '3, 1 2\n']), io.out);
    expect(await ask(question, undefined)).toEqual([[2], [3, 1, 2]]);
    close();
    expect(io.stdout()).toBe('');
    expect(io.stderr()).toBe(
      [
        'Round 1: rank the 3 samples of each of the 2 prompts.',
        'Prompt 1 of 2: "A"',
        '  1. " x"',
        '  2. " y"',
        '  3. " z"',
        'Prompt 2 of 2: "B"',
        '  1. " u"',
        '  2. ""',
        '  3. " w"',
        'On stdin, one line per prompt in order: the best sample\'s number, or all 3 numbers best first (e.g. "2" or "2 1 3").',
        "warning: round 1, prompt 2: a sample is named twice; give prompt 2's ranking again",
        '',
      ].join('\n'),
    );
  });

  it('fails naming the prompt that waits when the input ends', async () => {
    const { ask, close } = stdinRanking(Readable.from(['1\n']), capture().out);
    await expect(ask(question, undefined)).rejects.toThrow(
      "round 1: stdin ended before the ranking of prompt 2 of 2 (give one line per prompt: the best sample's number, or all 3 best first)",
    );
    close();
  });
});

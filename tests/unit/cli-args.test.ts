// The command line's flag parser (src/cli/args.ts): values, defaults, and a named error for every
// kind of mistake. No GPU, no subprocess.

import { describe, expect, it } from 'vitest';
import { type Command, commandHelp, parseFlags, UsageError } from '../../src/cli/args.ts';

const flags = {
  model: { kind: 'string', value: 'DIR', required: true, help: 'model' },
  prompt: { kind: 'string', value: 'TEXT', required: true, help: 'prompt' },
  chat: { kind: 'boolean', help: 'chat' },
  maxNewTokens: { kind: 'int', default: 64, min: 1, max: 1024, help: 'n' },
  temperature: { kind: 'number', default: 0.8, min: 0, max: 2, help: 't' },
  dropout: { kind: 'number', min: 0, max: 1, belowMax: true, help: 'p' },
  method: { kind: 'string', choices: ['lora', 'prefix'], help: 'm' },
  targets: { kind: 'list', help: 'names' },
} as const;
const command: Command<typeof flags> = { name: 'demo', summary: 'a demo', flags, examples: ['lora-playground demo'] };

const parse = (...argv: string[]) => parseFlags(command, argv);
const mistake = (...argv: string[]) => {
  try {
    parse(...argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`no error for ${argv.join(' ')}`);
};

describe('parseFlags', () => {
  it('reads --name value and --name=value, applies defaults, and leaves other optional flags undefined', () => {
    const a = parse('--model', 'm', '--prompt=--not-a-flag', '--temperature', '0', '--targets', 'q_proj, v_proj');
    expect(a).toEqual({
      model: 'm',
      prompt: '--not-a-flag',
      chat: false,
      maxNewTokens: 64,
      temperature: 0,
      targets: ['q_proj', 'v_proj'],
      json: false,
      help: false,
    });
    expect(a.dropout).toBeUndefined();
    expect(parse('--model', 'm', '--prompt', '-1 is a number', '--chat', '--json').chat).toBe(true);
  });

  it('names an unknown flag, and the flag it was probably meant to be', () => {
    expect(mistake('--modle', 'm', '--prompt', 'p')).toBe('unknown flag --modle for `lora-playground demo` (did you mean --model?)');
    expect(mistake('--frobnicate', '1')).toBe('unknown flag --frobnicate for `lora-playground demo`');
  });

  it('names a missing value, a value on a switch, a repeated flag and a stray word', () => {
    expect(mistake('--prompt', 'p', '--model')).toBe('--model needs a value (DIR)');
    expect(mistake('--model', '--prompt', 'p')).toBe('--model needs a value (DIR)');
    expect(mistake('--chat=yes')).toBe('--chat takes no value');
    expect(mistake('--model', 'a', '--model', 'b')).toBe('--model is given twice');
    expect(mistake('generate')).toMatch(/^unexpected argument "generate"/);
  });

  it('names malformed and out-of-range numbers, bad choices and empty list items', () => {
    expect(mistake('--max-new-tokens', '1.5')).toBe('--max-new-tokens takes a whole number, not "1.5"');
    expect(mistake('--temperature', 'warm')).toBe('--temperature takes a number, not "warm"');
    expect(mistake('--max-new-tokens', '0')).toBe('--max-new-tokens must be between 1 and 1024, not 0');
    expect(mistake('--temperature=3')).toBe('--temperature must be between 0 and 2, not 3');
    expect(mistake('--dropout', '1')).toBe('--dropout must be between 0 and 1 (less than 1), not 1');
    expect(mistake('--method', 'full')).toBe('--method must be one of lora, prefix, not "full"');
    expect(mistake('--targets', 'q_proj,,v_proj')).toMatch(/^--targets takes a comma-separated list with no empty item/);
  });

  it('names every required flag that is missing, unless help is asked for', () => {
    expect(mistake()).toBe('missing --model DIR and --prompt TEXT (see `lora-playground demo --help`)');
    expect(mistake('--prompt', 'p')).toBe('missing --model DIR (see `lora-playground demo --help`)');
    expect(parse('--help').help).toBe(true);
  });
});

describe('commandHelp', () => {
  it('lists every flag in kebab case with what it takes, its default and range', () => {
    const help = commandHelp(command as unknown as Command);
    expect(help).toMatch(/^Usage: lora-playground demo --model DIR --prompt TEXT \[--chat\] \[--max-new-tokens N\]/);
    expect(help).toContain('--max-new-tokens N');
    expect(help).toMatch(/--temperature X +t \(default 0\.8; 0 to 2\)/);
    expect(help).toMatch(/--method TEXT +m \(one of lora, prefix\)/);
    for (const name of ['--model', '--prompt', '--chat', '--dropout', '--targets', '--json', '--help']) expect(help).toContain(name);
  });
});

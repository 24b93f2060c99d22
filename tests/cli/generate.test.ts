// `lora-playground generate`, the real command in a subprocess on the shipped model: greedy text equals
// PyTorch's (tests/fixtures/greedy.json), sampling repeats with its seed, an adapter changes the text,
// --json is one event per line ending in the result, and Ctrl-C stops it with what it has.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureLora } from './adapter.ts';
import { ROOT, runCli } from './run.ts';

interface GreedyCase {
  prompt: string;
  input_ids: number[];
  output_ids: number[];
  text: string;
}

const greedy: GreedyCase[] = JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/greedy.json'), 'utf8'));
const MODEL = 'models/brown-llama-4m'; // as a user in the project folder types it
const greedyFlags = (c: GreedyCase) => ['--prompt', c.prompt, '--temperature', '0', '--max-new-tokens', String(c.output_ids.length)];
const stopFor = (c: GreedyCase) => (c.output_ids.length < 32 ? 'eos' : 'length');

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-playground-cli-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('lora-playground generate', () => {
  it("streams PyTorch's greedy continuation to stdout, and the speed to stderr", async () => {
    const c = greedy[0];
    const r = await runCli(['generate', '--model', MODEL, ...greedyFlags(c)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(c.text + '\n');
    expect(r.stderr).toMatch(new RegExp(`${c.output_ids.length} tokens, \\d+\\.\\d tokens/s, stopped: ${stopFor(c)}`));
  });

  it('--json: every line is one event, the tokens stream, and the one result at the end is PyTorch’s greedy output', async () => {
    const c = greedy[1];
    const r = await runCli(['generate', '--model', MODEL, ...greedyFlags(c), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const events = r.events();
    for (const e of events) expect(typeof e.event).toBe('string');
    expect(events.filter((e) => e.event === 'result')).toHaveLength(1);
    expect(events.filter((e) => e.event === 'error')).toHaveLength(0);
    const tokens = events.filter((e) => e.event === 'token');
    expect(tokens.map((t) => t.id)).toEqual(c.output_ids);
    expect(tokens.map((t) => t.index)).toEqual(c.output_ids.map((_, i) => i));
    expect(tokens.map((t) => t.text).join('')).toBe(c.text);
    const result = r.result();
    expect(result.command).toBe('generate');
    expect(result.promptIds).toEqual(c.input_ids);
    expect(result.renderedPrompt).toBe(c.prompt);
    expect(result.tokenIds).toEqual(c.output_ids);
    expect(result.text).toBe(c.text);
    expect(result.tokens).toBe(c.output_ids.length);
    expect(result.stopReason).toBe(stopFor(c));
    expect(result.tokensPerSecond).toBeGreaterThan(0);
  });

  it('samples the same text with the same seed, and another text with another seed', async () => {
    const sample = (seed: number) =>
      runCli(['generate', '--model', MODEL, '--prompt', greedy[0].prompt, '--temperature', '1', '--top-k', '0', '--top-p', '1', '--seed', String(seed), '--max-new-tokens', '12', '--json']);
    const a = await sample(7);
    const b = await sample(7);
    const c = await sample(8);
    for (const r of [a, b, c]) expect(r.code, r.stderr).toBe(0);
    expect(a.result().tokenIds).toHaveLength(12);
    expect(b.result().tokenIds).toEqual(a.result().tokenIds);
    expect(b.result().text).toBe(a.result().text);
    expect(c.result().tokenIds).not.toEqual(a.result().tokenIds);
  });

  it('--adapter attaches a PEFT LoRA adapter, which changes the greedy text', async () => {
    const dir = join(tmp, 'lora');
    writeFixtureLora(dir);
    const c = greedy[0];
    const r = await runCli(['generate', '--model', MODEL, '--adapter', dir, '--prompt', c.prompt, '--temperature', '0', '--max-new-tokens', '12', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = r.result();
    expect(result.peftType).toBe('LORA');
    expect(result.promptIds).toEqual(c.input_ids);
    expect(result.tokenIds).toHaveLength(12);
    expect(result.tokenIds).not.toEqual(c.output_ids.slice(0, 12));
  });

  it('Ctrl-C stops generating: the text so far as the result, exit code 130', async () => {
    let sent = false;
    const r = await runCli(['generate', '--model', MODEL, '--prompt', greedy[0].prompt, '--max-new-tokens', '1000', '--json'], {
      onLine: (line, child) => {
        if (!sent && JSON.parse(line).event === 'token') {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    const result = r.result();
    expect(result.stopReason).toBe('stopped');
    expect((result.tokenIds as number[]).length).toBeGreaterThan(0);
    expect((result.tokenIds as number[]).length).toBeLessThan(1000);
  });
});

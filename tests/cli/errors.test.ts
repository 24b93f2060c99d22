// Bad input to the real command: each mistake exits non-zero (2 for the command line itself, 1 for
// what it names) with one error naming the problem, and nothing hangs.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureLora } from './adapter.ts';
import { runCli } from './run.ts';

const MODEL = 'models/brown-llama-4m';
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-playground-errors-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs with --json; returns the exit code and the error event (which must be the last line). */
async function failing(...args: string[]) {
  const r = await runCli([...args, '--json']);
  return { code: r.code, ...r.error() };
}

describe('the command line', () => {
  it('names an unknown command, an unknown flag and a malformed value (exit 2)', async () => {
    expect(await failing('frobnicate')).toMatchObject({ code: 2, message: expect.stringMatching(/^unknown command "frobnicate": the commands are generate, eval, train/) });
    expect(await failing('generate', '--model', MODEL, '--prompt', 'hi', '--max-tokens', '3')).toMatchObject({
      code: 2,
      message: 'unknown flag --max-tokens for `lora-playground generate` (did you mean --max-new-tokens?)',
    });
    expect(await failing('generate', '--model', MODEL, '--prompt', 'hi', '--temperature', 'hot')).toMatchObject({ code: 2, message: '--temperature takes a number, not "hot"' });
    expect(await failing('generate', '--prompt', 'hi')).toMatchObject({ code: 2, message: 'missing --model DIR (see `lora-playground generate --help`)' });
  });

  it('prints errors for a person on stderr, with nothing on stdout', async () => {
    const r = await runCli(['eval', '--model', MODEL, '--data', 'no-such-file.jsonl']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error: --data no-such-file.jsonl: no such file\n');
  });

  it('names a missing folder, a folder that is not a model, and a model folder without a tokenizer (exit 1)', async () => {
    expect(await failing('generate', '--model', 'no/such/model', '--prompt', 'hi')).toMatchObject({ code: 1, message: '--model no/such/model: no such folder' });
    expect(await failing('generate', '--model', 'tests', '--prompt', 'hi')).toMatchObject({ code: 1, message: 'tests is not a model folder: it has no config.json' });
    expect(await failing('eval', '--model', 'tests/fixtures/tiny-gpt2', '--data', 'static/samples/pirate-qa.jsonl')).toMatchObject({
      code: 1,
      message: expect.stringMatching(/^tests\/fixtures\/tiny-gpt2 has no tokenizer\.json and no tokenizer_config\.json/),
    });
    const noWeights = join(tmp, 'no-weights');
    mkdirSync(noWeights);
    writeFileSync(join(noWeights, 'config.json'), readFileSync(join(MODEL, 'config.json')));
    expect(await failing('generate', '--model', noWeights, '--prompt', 'hi')).toMatchObject({
      code: 1,
      message: expect.stringMatching(/has no model\.safetensors and no model\.safetensors\.index\.json/),
    });
  });

  it('refuses a corrupt adapter, one that does not fit the model, and a folder without the weights, naming why', async () => {
    const good = join(tmp, 'good');
    const exported = writeFixtureLora(good);

    const corrupt = join(tmp, 'corrupt');
    mkdirSync(corrupt);
    writeFileSync(join(corrupt, 'adapter_config.json'), exported.configJson);
    writeFileSync(join(corrupt, 'adapter_model.safetensors'), exported.weights.subarray(0, 200));
    const c = await failing('generate', '--model', MODEL, '--adapter', corrupt, '--prompt', 'hi');
    expect(c.code).toBe(1);
    expect(c.message).toMatch(/^cannot import this adapter: /);
    expect(c.problems).toHaveLength(1);

    const misfit = join(tmp, 'misfit');
    mkdirSync(misfit);
    writeFileSync(join(misfit, 'adapter_config.json'), JSON.stringify({ ...JSON.parse(exported.configJson), r: 8 }));
    writeFileSync(join(misfit, 'adapter_model.safetensors'), exported.weights);
    const m = await failing('generate', '--model', MODEL, '--adapter', misfit, '--prompt', 'hi');
    expect(m.code).toBe(1);
    expect(m.problems).toContain(
      'tensor "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight" has shape [4, 256], but brown-llama-4m needs [8, 256] (r = 8 × the module\'s input width)',
    );

    const halfway = join(tmp, 'halfway');
    mkdirSync(halfway);
    writeFileSync(join(halfway, 'adapter_config.json'), exported.configJson);
    const h = await failing('generate', '--model', MODEL, '--adapter', halfway, '--prompt', 'hi');
    expect(h.code).toBe(1);
    expect(h.problems).toEqual(['adapter_model.safetensors is missing', 'found: adapter_config.json']);
  });

  it('train checks its flags, files and settings against the model before it loads anything', async () => {
    const data = 'static/samples/pirate-qa.jsonl';
    const out = join(tmp, 'out');
    expect(await failing('train', '--model', MODEL, '--data', data, '--method', 'lora', '--steps', '3', '--epochs', '2', '--out', out)).toMatchObject({
      code: 2,
      message: 'give --steps or --epochs, not both',
    });
    expect(await failing('train', '--model', MODEL, '--data', data, '--method', 'prefix', '--r', '4', '--out', out)).toMatchObject({
      code: 2,
      message: '--r is a setting of --method lora, not prefix',
    });
    expect(await failing('train', '--model', MODEL, '--data', data, '--method', 'dora', '--out', out)).toMatchObject({
      code: 2,
      message: '--method must be one of lora, bottleneck, prefix, full, not "dora"',
    });
    const misfit = await failing('train', '--model', MODEL, '--data', data, '--method', 'lora', '--targets', 'q_proj,qkv', '--seq-len', '1000', '--out', out);
    expect(misfit.code).toBe(1);
    expect(misfit.problems).toEqual([
      'this model has no module "qkv" (it has q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)',
      "max sequence length must be a whole number from 8 to 512, the model's limit (got 1000)",
    ]);
    expect(await failing('train', '--model', MODEL, '--data', 'missing.jsonl', '--method', 'lora', '--out', out)).toMatchObject({
      code: 1,
      message: '--data missing.jsonl: no such file',
    });
  });
});

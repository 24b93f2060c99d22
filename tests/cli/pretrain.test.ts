// `lora-playground pretrain` and `train --method full`, the real commands in a subprocess: a tiny new
// model pretrained for two steps writes a model folder that `eval --model` loads back; one with a
// trained BPE tokenizer (--tokenizer bpe) carries it into the folder, where `generate` reads it; full
// fine-tuning that does not fit the memory budget is refused with the numbers; sizes and a preset
// together are a usage mistake.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPT2Tokenizer } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL, runCli } from './run.ts';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-playground-pretrain-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const FABLES = 'static/samples/small-fables.txt';

describe('lora-playground pretrain', () => {
  it('pretrains a tiny model, reports samples, and writes a folder eval loads', { timeout: 1_200_000 }, async () => {
    const out = join(tmp, 'tiny');
    // Context 128: eval reads every paragraph of the file whole (the longest is 89 tokens); training packs rows of --seq-len.
    const tiny = ['--layers', '1', '--width', '16', '--heads', '2', '--kv-heads', '1', '--mlp-width', '32', '--context', '128'];
    const run = await runCli(['pretrain', ...tiny, '--data', FABLES, '--steps', '2', '--batch', '2', '--seq-len', '16', '--eval-every', '1', '--sample-every', '1', '--general', 'none', '--seed', '3', '--json', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    const samples = run.events().filter((e) => e.event === 'train' && e.kind === 'sample');
    expect(samples.map((s) => s.step)).toEqual([1, 2]);
    expect(typeof samples[0].text === 'string' && samples[0].text.startsWith('The')).toBe(true);
    const result = run.result();
    expect(result).toMatchObject({ command: 'pretrain', status: 'finished', steps: 2, method: { peft_type: 'FULL' }, architecture: { layers: 1, hidden: 16, seed: 3, initializer_range: 0.02 } });
    expect(readdirSync(out).sort()).toEqual(['config.json', 'generation_config.json', 'metrics.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ model_type: 'llama', hidden_size: 16, num_hidden_layers: 1, vocab_size: 4096 });

    const evaluated = await runCli(['eval', '--model', out, '--data', FABLES, '--seq-len', '16', '--json']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const loss = evaluated.result().loss as number;
    // a two-step model still predicts almost uniformly over the 4,096 tokens: its loss is near ln 4096
    expect(Math.abs(loss - Math.log(4096))).toBeLessThan(0.5);
  });

  it('--tokenizer bpe trains a tokenizer on the text first; the folder carries it, and generate reads it back', { timeout: 1_200_000 }, async () => {
    const out = join(tmp, 'bpe');
    const tiny = ['--layers', '1', '--width', '16', '--heads', '2', '--kv-heads', '1', '--mlp-width', '32', '--context', '64'];
    const run = await runCli(['pretrain', ...tiny, '--tokenizer', 'bpe', '--vocab-size', '300', '--data', FABLES, '--steps', '1', '--batch', '2', '--seq-len', '16', '--eval-every', '1', '--general', 'none', '--json', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    const progress = run.events().filter((e) => e.event === 'progress' && e.file === 'tokenizer');
    expect(progress.at(-1)).toMatchObject({ loaded: 300 - 259, total: 300 - 259, unit: 'merges' });
    expect(run.result()).toMatchObject({ status: 'finished', tokenizer: { type: 'byte-level BPE', vocab_size: 300, merges: 41 } });
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ vocab_size: 300, eos_token_id: 0, pad_token_id: 0 });
    const read = (name: string) => JSON.parse(readFileSync(join(out, name), 'utf8'));
    const hf = new GPT2Tokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
    expect(Object.keys(read('tokenizer.json').model.vocab)).toHaveLength(300);

    const prompt = 'The Fox and the Grapes';
    const generated = await runCli(['generate', '--model', out, '--prompt', prompt, '--temperature', '0', '--max-new-tokens', '4', '--json']);
    expect(generated.code, generated.stderr).toBe(0);
    const result = generated.result();
    expect(result.promptIds).toEqual(hf.encode(prompt, { add_special_tokens: false }));
    expect((result.tokenIds as number[]).every((id) => id >= 0 && id < 300)).toBe(true);
  });

  it('refuses --vocab-size without --tokenizer bpe', async () => {
    const run = await runCli(['pretrain', '--vocab-size', '512', '--data', FABLES, '--out', join(tmp, 'y'), '--json']);
    expect(run.code).toBe(2);
    expect(run.error().message).toBe('--vocab-size sizes a trained tokenizer: add --tokenizer bpe (the shipped tokenizer has 4,096 tokens)');
  });

  it('refuses a preset and custom sizes together', async () => {
    const run = await runCli(['pretrain', '--preset', '1m', '--layers', '2', '--data', FABLES, '--out', join(tmp, 'x'), '--json']);
    expect(run.code).toBe(2);
    expect(run.error().message).toBe('--preset 1m fixes the sizes; leave --layers out or drop --preset');
  });
});

describe('lora-playground train --method full', () => {
  it('refuses a run whose weights, gradients and AdamW moments do not fit, with the numbers', { timeout: 600_000 }, async () => {
    const out = join(tmp, 'full');
    const run = await runCli(['train', '--model', MODEL, '--data', 'static/samples/pirate-qa.jsonl', '--method', 'full', '--memory-budget', '64', '--general', 'none', '--json', '--out', out]);
    expect(run.code).toBe(1);
    expect(run.error().message).toMatch(/full fine-tuning needs weights 15 MiB \+ trainable weights, gradients and AdamW moments 60 MiB \+ activations \d+ MiB = \d+ MiB, more than the 64 MiB of GPU memory it may use/);
    expect(existsSync(out)).toBe(false);
  });
});

// `lora-playground eval`: held-out loss and perplexity of a dataset file, read, rendered, tokenized and
// packed by the page's data layer (the same formats, templates and named problems) and scored by the
// engine's masked cross-entropy, with or without an adapter.

import { defaultPackMode, describeProblem, packExamples, tokenizeExamples } from '../lib/data';
import { heldOutLoss } from '../lib/train/run.ts';
import type { Command, Parsed } from './args.ts';
import { checkReady, listed, readDataset } from './data.ts';
import { attachAdapter, InputError, loadModel } from './model.ts';
import type { Reporter } from './output.ts';

const flags = {
  model: { kind: 'string', value: 'DIR', required: true, help: 'model folder in the Hugging Face layout' },
  adapter: { kind: 'string', value: 'DIR', help: 'PEFT adapter to attach (folder or .zip); without it, the base model' },
  data: { kind: 'string', value: 'FILE', required: true, help: 'dataset file: .jsonl, .json, .csv, .tsv or .txt, in any format the page reads' },
  // The page's defaults: rows of 128 positions (every built-in sample fits), 8 rows per batch.
  seqLen: { kind: 'int', help: 'positions per packed row (T)', default: 128, min: 2 },
  batch: { kind: 'int', help: 'rows per forward pass (B)', default: 8, min: 1 },
  skipBad: { kind: 'boolean', help: 'leave out bad records and examples that cannot be rendered, instead of stopping' },
} as const;

export const evalCommand: Command<typeof flags> = {
  name: 'eval',
  summary: 'mean loss and perplexity of a dataset file, with or without an adapter',
  description:
    'Every example of the file counts (no split); the loss counts the tokens training would count (completions,\n' +
    'assistant turns, all of plain text). A bad record stops it, naming the line, unless --skip-bad.',
  flags,
  examples: [
    'lora-playground eval --model models/brown-llama-4m --data static/samples/pirate-qa.jsonl',
    'lora-playground eval --model models/brown-llama-4m --adapter my-adapter/ --data valid.jsonl --json',
  ],
};

export async function runEval(args: Parsed<typeof flags>, out: Reporter, signal: AbortSignal): Promise<void> {
  const parsed = await readDataset('--data', args.data, out);
  checkReady(parsed, null, args.skipBad, out);

  const model = await loadModel(args.model, out);
  try {
    if (args.seqLen > model.engine.config.maxPositions) {
      throw new InputError(`--seq-len ${args.seqLen} is longer than ${model.id} takes (${model.engine.config.maxPositions} positions)`);
    }
    if (args.adapter) await attachAdapter(model, args.adapter, out);

    // Render, tokenize and pack as the page prepares a dataset (data/prepare.ts), every example kept.
    out.status('data', `Tokenizing ${parsed.examples.length} examples…`);
    const { tokenizer, chatTemplate } = model.tokenizer;
    const tokenized = await tokenizeExamples(parsed.examples, tokenizer, { chatTemplate }, { signal });
    if (tokenized.problems.length && !args.skipBad) {
      const n = tokenized.problems.length;
      throw new InputError(`${n} example${n === 1 ? '' : 's'} cannot be rendered: skip ${n === 1 ? 'it' : 'them'} (--skip-bad) or fix the file`, listed(tokenized.problems));
    }
    for (const p of tokenized.problems) out.warning(`left out: ${describeProblem(p)}`);
    const packMode = defaultPackMode(parsed.format);
    const packed = packExamples(tokenized.examples, { seqLen: args.seqLen, mode: packMode, padId: tokenizer.padId });
    const truncated = packed.warnings;
    if (truncated.length) out.warning(`${truncated.length} example${truncated.length === 1 ? ' is' : 's are'} longer than --seq-len ${args.seqLen}: ${listed(truncated, 3).join('; ')}`);
    if (packed.countedTokens === 0) throw new InputError(`no example of ${parsed.file} has a token the loss counts`);

    // The page's held-out loss (and the run loop's validation): B rows per forward pass, the last pass
    // topped up with padding rows the loss ignores.
    const batches = Math.ceil(packed.rows / args.batch);
    out.status('eval', `Evaluating ${packed.rows} rows of ${args.seqLen} in ${batches} batches of ${args.batch}…`);
    const { loss, tokens } = await heldOutLoss(model.engine, packed, args.batch, tokenizer.padId);
    const perplexity = Math.exp(loss);
    out.result(
      'eval',
      {
        model: model.id,
        adapter: args.adapter ?? null,
        data: args.data,
        format: parsed.format,
        packMode,
        examples: tokenized.examples.length,
        skippedRecords: parsed.badRecords + tokenized.problems.length,
        seqLen: args.seqLen,
        batch: args.batch,
        rows: packed.rows,
        batches,
        loss,
        perplexity,
        tokens,
      },
      { out: [`loss        ${loss.toFixed(4)}`, `perplexity  ${perplexity.toFixed(3)}`, `tokens      ${tokens}`] },
    );
  } finally {
    model.destroy();
  }
}

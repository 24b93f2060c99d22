// `lora-playground eval`: a dataset file read, rendered and tokenized by the page's data layer (the same
// formats, templates and named problems) and evaluated per example (src/lib/eval) for the base model,
// each --adapter, and the base model with --shots K examples in its prompt; plus each model's packed
// held-out loss, as training's validation computes it.

import { basename } from 'node:path';
import { defaultPackMode, type Example, packExamples, type ParsedDataset, tokenizeExamples } from '../lib/data';
import { evaluateItems } from '../lib/eval/evaluate.ts';
import type { EvalItem } from '../lib/eval/items.ts';
import { prepareColumn, promptStyleProblem } from '../lib/eval/prepare.ts';
import { SHOT_PICKS, type ShotOptions } from '../lib/eval/shots.ts';
import { heldOutLoss } from '../lib/train/run.ts';
import type { Command, Parsed } from './args.ts';
import { checkReady, listed, readDataset } from './data.ts';
import { checkPredictionsPath, columnName, type EvalColumn, rowLines, tableJson, totalsLines, writePredictions } from './eval-table.ts';
import { attachAdapter, InputError, loadModel, type LoadedModel } from './model.ts';
import type { Reporter } from './output.ts';

const flags = {
  model: { kind: 'string', value: 'DIR', required: true, help: 'model folder in the Hugging Face layout' },
  adapter: { kind: 'list', value: 'DIR', repeatable: true, help: 'PEFT adapter (folder or .zip) to evaluate next to the base model; repeat the flag (or A,B) for several' },
  data: { kind: 'string', value: 'FILE', required: true, help: 'test file: .jsonl, .json, .csv, .tsv or .txt, in any format the page reads' },
  shots: { kind: 'int', help: 'add a column: the base model with this many solved examples in front of each prompt (0: none)', default: 0, min: 0, max: 32 },
  shotsFrom: { kind: 'string', value: 'FILE', help: "training file the shots come from (without it, --data's other examples)" },
  pick: { kind: 'string', help: 'how shots are chosen: random (seeded) or similar (prompts sharing most words)', default: 'random', choices: SHOT_PICKS },
  seed: { kind: 'int', help: 'seed of the random shots', default: 0, min: 0 },
  chat: { kind: 'boolean', help: 'render prompts with the chat template: {prompt, completion} and alpaca examples become a user turn and the answer the assistant turn' },
  system: { kind: 'string', value: 'TEXT', help: 'system prompt: the first message with --chat, else written before the prompt (and its shots) with a blank line' },
  maxNewTokens: { kind: 'int', help: 'greedy tokens generated per example for exact match, ROUGE-L and chrF; 0 skips generation', default: 48, min: 0, max: 512 },
  out: { kind: 'string', value: 'FILE', help: 'write predictions.jsonl here: one line per example and column (a new file)' },
  // The page's defaults: rows of 128 positions (every built-in sample fits), 8 rows per batch.
  seqLen: { kind: 'int', help: 'positions per packed row (T) of the held-out loss', default: 128, min: 2 },
  batch: { kind: 'int', help: 'rows per forward pass (B) of the held-out loss', default: 8, min: 1 },
  skipBad: { kind: 'boolean', help: 'leave out bad records and examples that cannot be rendered, instead of stopping' },
} as const;

export const evalCommand: Command<typeof flags> = {
  name: 'eval',
  summary: 'per-example loss, token accuracy, greedy output and text scores for the base, adapters and k-shot base',
  description:
    'Every example of the file counts (no split); the loss counts the tokens training would count (completions,\n' +
    'assistant turns, all of plain text). Columns: the base model, each --adapter, and with --shots K the base\n' +
    'model prompted with K training examples. A bad record stops it, naming the line, unless --skip-bad.',
  flags,
  examples: [
    'lora-playground eval --model models/brown-llama-4m --data static/samples/pirate-qa.jsonl',
    'lora-playground eval --model models/brown-llama-4m --adapter pirate-lora/ --data test.jsonl --shots 3 --shots-from train.jsonl --out predictions.jsonl --json',
  ],
};

type Args = Parsed<typeof flags>;

/** The packed held-out loss of whatever is attached: B rows of --seq-len per forward pass, as validation. */
async function packedLoss(model: LoadedModel, examples: Example[], signal: AbortSignal, args: Args) {
  const { tokenizer, chatTemplate } = model.tokenizer;
  const tokenized = await tokenizeExamples(examples, tokenizer, { chatTemplate }, { signal });
  const format = examples[0]?.format ?? null;
  const packMode = defaultPackMode(format);
  const packed = packExamples(tokenized.examples, { seqLen: args.seqLen, mode: packMode, padId: tokenizer.padId });
  if (packed.countedTokens === 0) throw new InputError(`no example of ${args.data} has a token the loss counts`);
  const { loss, tokens } = await heldOutLoss(model.engine, packed, args.batch, tokenizer.padId);
  return { loss, tokens, rows: packed.rows, batches: Math.ceil(packed.rows / args.batch), packMode, truncated: packed.warnings };
}

/** Every example made ready (shots picked per example when `shots` is given); unrenderable ones named. */
function prepare(model: LoadedModel, examples: Example[], pool: Example[], shots: ShotOptions | null, args: Args, out: Reporter): { items: EvalItem[]; kept: Example[] } {
  const { tokenizer, chatTemplate } = model.tokenizer;
  const prompt = { chat: Boolean(args.chat), system: args.system ?? '' };
  const problem = promptStyleProblem(prompt, chatTemplate);
  if (problem) throw new InputError(`--chat: ${problem}`);
  const { items, kept, problems } = prepareColumn(examples, pool, tokenizer, { chatTemplate, maxPositions: model.engine.config.maxPositions, prompt, shots });
  if (problems.length && !args.skipBad) {
    const n = problems.length;
    throw new InputError(`${n} example${n === 1 ? '' : 's'} cannot be evaluated: skip ${n === 1 ? 'it' : 'them'} (--skip-bad) or fix the file`, problems.slice(0, 20));
  }
  for (const p of problems) out.warning(`left out: ${p}`);
  return { items, kept };
}

async function shotPool(args: Args, data: ParsedDataset, out: Reporter): Promise<Example[]> {
  if (!args.shotsFrom) return data.examples;
  const from = await readDataset('--shots-from', args.shotsFrom, out);
  checkReady(from, null, args.skipBad, out);
  if (from.format !== data.format) {
    throw new InputError(`--shots-from ${args.shotsFrom} is ${from.format} data but --data ${args.data} is ${data.format}: shots must be in the test file's format`);
  }
  return from.examples;
}

export async function runEval(args: Args, out: Reporter, signal: AbortSignal): Promise<void> {
  const parsed = await readDataset('--data', args.data, out);
  checkReady(parsed, null, args.skipBad, out);
  if (parsed.format === 'preference') throw new InputError(`${parsed.file} holds preference pairs: eval scores prompts with one answer ({prompt, completion}, messages, alpaca or text)`);
  const pool = args.shots > 0 ? await shotPool(args, parsed, out) : [];
  if (args.shots > 0 && parsed.format === 'text') out.warning(`${parsed.file} is plain text, which has no prompt to put shots in front of: the ${args.shots}-shot column equals the base`);
  if (args.out) await checkPredictionsPath(args.out);
  const adapters = args.adapter ?? [];

  const model = await loadModel(args.model, out);
  try {
    if (args.seqLen > model.engine.config.maxPositions) {
      throw new InputError(`--seq-len ${args.seqLen} is longer than ${model.id} takes (${model.engine.config.maxPositions} positions)`);
    }
    out.status('data', `Preparing ${parsed.examples.length} examples…`);
    const zero = prepare(model, parsed.examples, pool, null, args, out);
    const examples = zero.kept;
    const shot = args.shots > 0 ? prepare(model, examples, pool, { k: args.shots, pick: args.pick as ShotOptions['pick'], seed: args.seed }, args, out) : null;
    if (shot && shot.items.length !== zero.items.length) throw new InputError('an example that fits without shots failed to render with them');

    const decode = (ids: number[]) => model.tokenizer.hf.decode(ids, { skip_special_tokens: true });
    const columns: EvalColumn[] = [];
    const packedLosses: Awaited<ReturnType<typeof packedLoss>>[] = [];
    const evaluate = async (name: string, adapter: string | null, items: EvalItem[], shots: number, packed: boolean) => {
      out.status('eval', `Evaluating ${name} on ${items.length} examples…`);
      const held = packed ? await packedLoss(model, examples, signal, args) : null;
      if (held) packedLosses.push(held);
      const r = await evaluateItems(model.engine, items, {
        decode,
        maxNewTokens: args.maxNewTokens,
        signal,
        onProgress: (done, total) => out.progress(name, done, total),
      });
      columns.push({ name: columnName(name, columns.map((c) => c.name)), adapter, shots, heldOut: held && { loss: held.loss, tokens: held.tokens }, ...r });
    };

    await evaluate('base', null, zero.items, 0, true);
    for (const path of adapters) {
      model.engine.detach();
      await attachAdapter(model, path, out);
      await evaluate(basename(path).replace(/\.zip$/i, ''), path, zero.items, 0, true);
    }
    if (shot) {
      model.engine.detach();
      await evaluate(`${args.shots}-shot base`, null, shot.items, args.shots, false);
    }
    // The top-level loss is the first adapter's (the base's without one), as before there were columns.
    const held = packedLosses[adapters.length ? 1 : 0];
    if (held.truncated.length) out.warning(`${held.truncated.length} example${held.truncated.length === 1 ? ' is' : 's are'} longer than --seq-len ${args.seqLen} (held-out loss): ${listed(held.truncated, 3).join('; ')}`);
    const written = args.out ? await writePredictions(args.out, columns) : null;

    out.result(
      'eval',
      {
        model: model.id,
        adapter: adapters[0] ?? null,
        adapters,
        data: args.data,
        format: parsed.format,
        packMode: held.packMode,
        examples: examples.length,
        skippedRecords: parsed.badRecords + parsed.examples.length - examples.length,
        seqLen: args.seqLen,
        batch: args.batch,
        rows: held.rows,
        batches: held.batches,
        loss: held.loss,
        perplexity: Math.exp(held.loss),
        tokens: held.tokens,
        shots: args.shots,
        pick: args.pick,
        seed: args.seed,
        maxNewTokens: args.maxNewTokens,
        chat: Boolean(args.chat),
        system: args.system ?? '',
        predictions: written,
        ...tableJson(columns),
      },
      { out: [...rowLines(columns), '', ...totalsLines(columns)], note: written ? [`predictions written to ${args.out}`] : [] },
    );
  } finally {
    model.destroy();
  }
}

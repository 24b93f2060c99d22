// One call from parsed files to training rows: split (validation file, or automatic), render and
// tokenize, pack, and the preview numbers, with every problem collected in one list.

import type { DatasetFormat } from './formats';
import { defaultPackMode, packExamples, type PackedRows, type PackMode } from './pack';
import type { ParsedDataset } from './parse';
import { type DatasetPreview, previewTokenized } from './preview';
import type { DataProblem } from './problems';
import { DEFAULT_VALIDATION_FRACTION, splitExamples, validationFormatMismatch } from './split';
import type { ChatTemplateFn } from './templates';
import { type TextTokenizer, type TokenizedExample, tokenizeExamples } from './tokenize';

export interface PreparedSplit {
  examples: TokenizedExample[];
  packed: PackedRows;
  preview: DatasetPreview;
}

export interface PreparedData {
  format: DatasetFormat;
  packMode: PackMode;
  train: PreparedSplit;
  /** null when there is nothing to validate on (a one-example dataset). */
  validation: PreparedSplit | null;
  /** 'file': a validation file was given; 'auto': held out from the training file; 'none'. */
  split: 'file' | 'auto' | 'none';
  splitNote: string;
  /** Rendering errors (examples left out) and truncation warnings, train and validation. */
  problems: DataProblem[];
}

export class PrepareError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrepareError';
  }
}

export async function prepareTraining(opts: {
  train: ParsedDataset;
  validation?: ParsedDataset | null;
  tokenizer: TextTokenizer;
  chatTemplate?: ChatTemplateFn | null;
  /** T: positions per training row. */
  seqLen: number;
  packMode?: PackMode;
  validationFraction?: number;
  seed?: number;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}): Promise<PreparedData> {
  const { train, validation, tokenizer } = opts;
  const format = train.format;
  if (format === null || train.examples.length === 0) throw new PrepareError(`${train.file} has no usable example`);
  if (validation) {
    const mismatch = validationFormatMismatch(train, validation);
    if (mismatch) throw new PrepareError(mismatch);
    if (validation.examples.length === 0) throw new PrepareError(`${validation.file} has no usable example`);
  }

  let trainExamples = train.examples;
  let validationExamples = validation?.examples ?? [];
  let split: PreparedData['split'] = 'file';
  let splitNote = validation ? `validation: ${validation.file} (${validation.examples.length} examples)` : '';
  if (!validation) {
    const s = splitExamples(train.examples, { fraction: opts.validationFraction ?? DEFAULT_VALIDATION_FRACTION, seed: opts.seed ?? 0 });
    trainExamples = s.train;
    validationExamples = s.validation;
    split = s.validation.length > 0 ? 'auto' : 'none';
    splitNote = s.note;
  }

  const ctx = { chatTemplate: opts.chatTemplate ?? null };
  const total = trainExamples.length + validationExamples.length;
  const progress = (offset: number, n: number) => (f: number) => opts.onProgress?.((offset + f * n) / Math.max(1, total));
  const tTrain = await tokenizeExamples(trainExamples, tokenizer, ctx, { signal: opts.signal, onProgress: progress(0, trainExamples.length) });
  const tVal = await tokenizeExamples(validationExamples, tokenizer, ctx, {
    signal: opts.signal,
    onProgress: progress(trainExamples.length, validationExamples.length),
  });

  const packMode = opts.packMode ?? defaultPackMode(format);
  if (format === 'preference' && packMode !== 'pad') throw new PrepareError("preference pairs are packed one sequence per row ('pad'), never joined end to end");
  const build = (examples: TokenizedExample[]): PreparedSplit => {
    const packed = packExamples(examples, { seqLen: opts.seqLen, mode: packMode, padId: tokenizer.padId });
    const preview = previewTokenized(examples, { seqLen: opts.seqLen, padId: tokenizer.padId, mode: packMode });
    return { examples, packed, preview };
  };
  const trainSplit = build(tTrain.examples);
  if (trainSplit.packed.rows === 0) throw new PrepareError('no training example has a token the loss counts (after truncation)');
  const valSplit = tVal.examples.length > 0 ? build(tVal.examples) : null;
  return {
    format,
    packMode,
    train: trainSplit,
    validation: valSplit,
    split,
    splitNote,
    problems: [...tTrain.problems, ...trainSplit.packed.warnings, ...tVal.problems, ...(valSplit?.packed.warnings ?? [])],
  };
}

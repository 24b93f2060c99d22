// Dropped, picked or named files → a training file, an optional validation file (MLX-style train/valid
// names, or the second file), each parsed with progress and cancellation; and whether training may
// start on them — the same rules for the page and the command line.

import { type DatasetSource, type ParsedDataset, parseDatasetFile, readyToTrain } from './parse';
import { assignFiles, validationFormatMismatch } from './split';
import type { ObjectiveType } from '../train/objective.ts';

export interface LoadedFiles {
  /** The file names in the order given. */
  names: string[];
  train: ParsedDataset | null;
  validation: ParsedDataset | null;
  /** An MLX test.jsonl: parsed and shown, never trained on. */
  test: ParsedDataset | null;
  /** How the files were assigned (and which were not used, with why). */
  notes: string[];
}

export interface LoadOptions {
  signal?: AbortSignal;
  /** Overall fraction 0..1 (by bytes over all used files) and the file being read. */
  onProgress?: (fraction: number, file: string) => void;
  /** Size limit per file in bytes (MAX_DATASET_BYTES by default). */
  maxBytes?: number;
}

/**
 * A File as a plain {name, size, arrayBuffer} source. Browsers now give Blob a `bytes()` method, so a
 * File passes parseDatasetFile's `'bytes' in src` test for in-memory bytes; wrapping it keeps the two
 * kinds of source apart.
 */
export function asSource(s: DatasetSource | File): DatasetSource {
  if ('bytes' in s && s.bytes instanceof Uint8Array) return { name: s.name, bytes: s.bytes };
  const blob = s as { name: string; size: number; arrayBuffer(): Promise<ArrayBuffer> };
  return { name: blob.name, size: blob.size, arrayBuffer: () => blob.arrayBuffer() };
}

const sizeOf = (s: DatasetSource) => ('bytes' in s ? s.bytes.byteLength : s.size);

/**
 * Assigns the sources to splits (data/split.ts's assignFiles) and parses the ones used, one after
 * another. Never throws for bad input; throws the signal's reason when aborted.
 */
export async function loadDatasetFiles(given: (DatasetSource | File)[], opts: LoadOptions = {}): Promise<LoadedFiles> {
  const sources = given.map(asSource);
  const names = sources.map((s) => s.name);
  const a = assignFiles(names);
  const used = (['train', 'validation', 'test'] as const).filter((role) => a[role] !== null);
  // A file over the limit weighs nothing: it is refused before it is read.
  const limit = opts.maxBytes;
  const weight = (i: number) => {
    const n = sizeOf(sources[i]);
    return limit !== undefined && n > limit ? 0 : n;
  };
  const total = used.reduce((s, role) => s + weight(a[role]!), 0);
  let done = 0;
  const out: LoadedFiles = { names, train: null, validation: null, test: null, notes: [...a.notes] };
  for (const role of used) {
    const i = a[role]!;
    const src = sources[i];
    const w = weight(i);
    opts.onProgress?.(total > 0 ? done / total : 0, src.name);
    out[role] = await parseDatasetFile(src, {
      signal: opts.signal,
      maxBytes: opts.maxBytes,
      onProgress: (f) => opts.onProgress?.(total > 0 ? (done + f * w) / total : f, src.name),
    });
    if (opts.signal?.aborted) throw opts.signal.reason ?? new DOMException('aborted', 'AbortError');
    done += w;
  }
  opts.onProgress?.(1, '');
  return out;
}

/** The dataset's name as the user knows it: "pirate.jsonl", or "train.jsonl + valid.jsonl". */
export function datasetName(files: LoadedFiles): string {
  return [files.train, files.validation].filter((d) => d !== null).map((d) => d!.file).join(' + ');
}

/** Bad records (left out of examples) in the files training uses. */
export function badRecordCount(files: LoadedFiles): number {
  return (files.train?.badRecords ?? 0) + (files.validation?.badRecords ?? 0);
}

/**
 * Whether training may start on these files with this objective (supervised fine-tuning when not
 * given): every reason it may not, each a sentence ([] when it may). With bad records it may only
 * when the user chose to skip them.
 */
export function filesReadiness(files: LoadedFiles, skipBadRecords: boolean, objective: ObjectiveType = 'sft'): string[] {
  const reasons: string[] = [];
  if (!files.train) {
    reasons.push(
      files.validation ? `${files.validation.file} is a validation file; add a training file (e.g. train.jsonl)` : 'no training file',
    );
    return reasons;
  }
  for (const d of [files.train, files.validation]) {
    if (!d) continue;
    const r = readyToTrain(d, { skipBadRecords, objective });
    if (!r.ok && !reasons.includes(r.reason)) reasons.push(r.reason);
  }
  if (files.validation) {
    const mismatch = validationFormatMismatch(files.train, files.validation);
    if (mismatch) reasons.push(mismatch);
  }
  return reasons;
}

// A dataset file → typed examples and a list of named problems.
//
// Bad records never stop the parse and are never dropped silently: each one is listed in `problems`
// with its line/row/item and the reason, and left out of `examples`. The UI shows the list and lets
// the user skip those records (train on `examples`) or fix the file.
//
// A file holds one format. The format is decided by the majority of records; a record in another
// format is a "mixed formats" error on that record.

import { decodeDatasetBytes, MAX_DATASET_BYTES, tooLargeMessage } from './decode';
import {
  type DatasetFormat,
  detectFormat,
  type Example,
  FORMAT_LABELS,
  notPairsMessage,
  PREFERENCE_NOTE,
  unknownFormatMessage,
  validateRecord,
} from './formats';
import { type DataProblem, describeWhere, fileWhere, formatCount } from './problems';
import { fileKindFromName, type FileKind, readRecords, sniffFileKind } from './readers';
import type { ObjectiveType } from '../train/objective.ts';

export interface ParsedDataset {
  file: string;
  kind: FileKind | null;
  /** The file's format (majority of its records), or null if no record has a known format. */
  format: DatasetFormat | null;
  /** How many records of each format were seen (including records with errors). */
  formatCounts: Partial<Record<DatasetFormat, number>>;
  /** Records read (non-blank lines, rows, items, paragraphs), good and bad. */
  records: number;
  /** The good records. */
  examples: Example[];
  /** Every problem, in file order: errors (record left out) and warnings (record kept). */
  problems: DataProblem[];
  /** How many records were left out because of errors. */
  badRecords: number;
  /** Informational lines for the UI (BOM removed, CRLF line endings, ...). */
  notes: string[];
}

export interface ParseOptions {
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  /** Records between turns of the event loop. */
  chunkSize?: number;
  /** Size limit in bytes (default MAX_DATASET_BYTES). */
  maxBytes?: number;
  maxLineChars?: number;
}

function empty(file: string, kind: FileKind | null, problem: DataProblem | null, notes: string[] = []): ParsedDataset {
  return {
    file,
    kind,
    format: null,
    formatCounts: {},
    records: 0,
    examples: [],
    problems: problem ? [problem] : [],
    badRecords: 0,
    notes,
  };
}

/** Something with a name and bytes: a File from a drop or <input>, or bytes from anywhere. */
export type DatasetSource = { name: string; size: number; arrayBuffer(): Promise<ArrayBuffer> } | { name: string; bytes: Uint8Array };

/**
 * The bytes of an in-memory source, or null for a File/Blob. Browsers' and Node's File have a
 * `bytes()` *method*, so `'bytes' in src` cannot tell the two apart.
 */
export function inMemoryBytes(src: DatasetSource): Uint8Array | null {
  const b = (src as { bytes?: unknown }).bytes;
  return b instanceof Uint8Array ? b : null;
}

/**
 * Reads, decodes and parses a dataset file. A file over the size limit is refused before it is read.
 * Never throws for bad input (only when aborted through `signal`).
 */
export async function parseDatasetFile(src: DatasetSource, opts: ParseOptions = {}): Promise<ParsedDataset> {
  const maxBytes = opts.maxBytes ?? MAX_DATASET_BYTES;
  const kind = fileKindFromName(src.name);
  const mem = inMemoryBytes(src);
  const size = mem ? mem.byteLength : (src as { size: number }).size;
  if (size > maxBytes) {
    return empty(src.name, kind, { where: fileWhere(src.name), message: tooLargeMessage(size, maxBytes), severity: 'error' });
  }
  const bytes = mem ?? new Uint8Array(await (src as { arrayBuffer(): Promise<ArrayBuffer> }).arrayBuffer());
  const decoded = decodeDatasetBytes(bytes, maxBytes);
  if (!decoded.ok) {
    const where = decoded.line > 0 ? { file: src.name, unit: 'line' as const, index: decoded.line, line: decoded.line } : fileWhere(src.name);
    return empty(src.name, kind, { where, message: decoded.message, severity: 'error' });
  }
  const notes: string[] = [];
  if (decoded.hadBom) notes.push('a UTF-8 byte-order mark at the start was removed');
  if (decoded.hadCrlf) notes.push('Windows (CRLF) line endings were read as plain newlines');
  return parseDatasetText(decoded.text, src.name, opts, notes);
}

/** Parses already-decoded text (e.g. a built-in sample, or text pasted into the page). */
export async function parseDatasetText(text: string, file: string, opts: ParseOptions = {}, notes: string[] = []): Promise<ParsedDataset> {
  let kind = fileKindFromName(file);
  if (text.trim() === '') {
    return empty(file, kind, { where: fileWhere(file), message: 'the file is empty', severity: 'error' }, notes);
  }
  if (kind === null) {
    kind = sniffFileKind(text);
    notes.push(`${file} has no known extension (.jsonl, .json, .csv, .tsv, .txt); read as ${kind} from its content`);
  }
  const read = await readRecords(text, file, kind, {
    onProgress: opts.onProgress,
    signal: opts.signal,
    chunkSize: opts.chunkSize,
    maxLineChars: opts.maxLineChars,
  });
  notes.push(...read.notes);

  // Decide the file's format by majority; ties go to the format seen first.
  const detected = read.records.map((r) => detectFormat(r.value));
  const formatCounts: Partial<Record<DatasetFormat, number>> = {};
  for (const f of detected) if (f) formatCounts[f] = (formatCounts[f] ?? 0) + 1;
  let format: DatasetFormat | null = null;
  for (const f of detected) if (f && (format === null || formatCounts[f]! > formatCounts[format]!)) format = f;
  const known = detected.filter((f) => f !== null).length;

  const problems: DataProblem[] = [...read.problems];
  const examples: Example[] = [];
  const badWheres = new Set<string>();
  for (const p of read.problems) if (p.severity === 'error' && p.where.unit !== 'file') badWheres.add(describeWhere(p.where));

  read.records.forEach((rec, k) => {
    const f = detected[k];
    const bad = (message: string) => {
      problems.push({ where: rec.where, message, severity: 'error' });
      badWheres.add(describeWhere(rec.where));
    };
    if (f === null) return bad(unknownFormatMessage(rec.value));
    if (f !== format) {
      return bad(
        `mixed formats: this ${rec.where.unit} is ${FORMAT_LABELS[f]}, but the file is ${FORMAT_LABELS[format!]} ` +
          `(${formatCount(formatCounts[format!]!)} of ${formatCount(known)} records); a file must hold one format`,
      );
    }
    const v = validateRecord(rec, f);
    if (v.example) examples.push(v.example);
    else {
      problems.push(...v.problems);
      badWheres.add(describeWhere(rec.where));
    }
  });

  // In file order, file-level problems first.
  const order = (p: DataProblem) => (p.where.unit === 'file' ? -1 : p.where.line * 1e6 + p.where.index);
  problems.sort((a, b) => order(a) - order(b));

  if (read.records.length === 0 && problems.length === 0) {
    problems.push({ where: fileWhere(file), message: 'the file holds no examples', severity: 'error' });
  }

  return {
    file,
    kind,
    format,
    formatCounts,
    records: read.records.length + read.problems.filter((p) => p.where.unit !== 'file').length,
    examples,
    problems,
    badRecords: badWheres.size,
    notes,
  };
}

/**
 * Whether training may start on this dataset with this objective (supervised fine-tuning when not
 * given). With bad records it may only when the user chose to skip them; with no good example, never.
 * Preference pairs train with a preference objective only, and a preference objective only on pairs.
 */
export function readyToTrain(
  ds: ParsedDataset,
  opts: { skipBadRecords: boolean; objective?: ObjectiveType },
): { ok: true } | { ok: false; reason: string } {
  const fileError = ds.problems.find((p) => p.severity === 'error' && p.where.unit === 'file');
  if (fileError) return { ok: false, reason: `${ds.file}: ${fileError.message}` };
  if (ds.examples.length === 0) return { ok: false, reason: `${ds.file} has no usable example` };
  const pairsWanted = (opts.objective ?? 'sft') !== 'sft';
  if (ds.format === 'preference' && !pairsWanted) return { ok: false, reason: PREFERENCE_NOTE };
  if (ds.format !== null && ds.format !== 'preference' && pairsWanted) return { ok: false, reason: notPairsMessage(ds.file, ds.format) };
  if (ds.badRecords > 0 && !opts.skipBadRecords) {
    return {
      ok: false,
      reason: `${ds.file} has ${formatCount(ds.badRecords)} bad record${ds.badRecords === 1 ? '' : 's'}: skip ${ds.badRecords === 1 ? 'it' : 'them'} or fix the file`,
    };
  }
  return { ok: true };
}

// Train / validation split. Three ways, in order of preference:
//   1. MLX-style names: train.jsonl → train, valid.jsonl (or validation/val/dev) → validation,
//      test.jsonl → test (kept for evaluation, never trained on). Any extension we read works.
//   2. Two files without those names: the first is train, the second validation.
//   3. One file: a seeded automatic split holding out about 10% (at least one example) for validation.

import { permutation } from '../random';

export type SplitRole = 'train' | 'validation' | 'test';

/** The split a file's name gives it (MLX-LM's train/valid/test naming), or null. */
export function splitRoleFromName(name: string): SplitRole | null {
  const base = name.split(/[\\/]/).pop()!.toLowerCase();
  const stem = base.replace(/\.[a-z0-9]+$/, '');
  if (stem === 'train' || stem === 'training') return 'train';
  if (stem === 'valid' || stem === 'validation' || stem === 'val' || stem === 'dev' || stem === 'eval') return 'validation';
  if (stem === 'test') return 'test';
  return null;
}

export interface FileAssignment {
  /** Index into the given names, or null. */
  train: number | null;
  validation: number | null;
  test: number | null;
  /** Files not used, with why; and how the assignment was made. */
  notes: string[];
}

/** Assigns dropped files to splits by name (MLX pairs) or by order. */
export function assignFiles(names: string[]): FileAssignment {
  const out: FileAssignment = { train: null, validation: null, test: null, notes: [] };
  const roles = names.map(splitRoleFromName);
  const unnamed: number[] = [];
  roles.forEach((role, i) => {
    if (role === null) unnamed.push(i);
    else if (out[role] === null) out[role] = i;
    else out.notes.push(`${names[i]} is not used: ${names[out[role]!]} is already the ${role} file`);
  });
  for (const i of unnamed) {
    if (out.train === null) {
      out.train = i;
      out.notes.push(`${names[i]} is the training file`);
    } else if (out.validation === null) {
      out.validation = i;
      out.notes.push(`${names[i]} is the validation file`);
    } else out.notes.push(`${names[i]} is not used: a training and a validation file are already chosen`);
  }
  if (out.train === null && out.validation !== null) {
    out.notes.push(`no training file: ${names[out.validation]} is a validation file; add a train file`);
  }
  return out;
}

export const DEFAULT_VALIDATION_FRACTION = 0.1;

/**
 * Holds out round(fraction · n) examples (at least one, and at least one left to train on) chosen by
 * a seeded shuffle; both parts keep the original order. With fewer than two examples there is nothing
 * to hold out and `validation` is empty.
 */
export function splitExamples<T>(
  examples: readonly T[],
  opts: { fraction?: number; seed?: number } = {},
): { train: T[]; validation: T[]; note: string } {
  const n = examples.length;
  const fraction = opts.fraction ?? DEFAULT_VALIDATION_FRACTION;
  if (n < 2) {
    return { train: examples.slice(), validation: [], note: `${n} example${n === 1 ? '' : 's'}: too few to hold any out for validation` };
  }
  const k = Math.min(n - 1, Math.max(1, Math.round(fraction * n)));
  const held = new Set(permutation(n, opts.seed ?? 0).subarray(0, k));
  const train: T[] = [];
  const validation: T[] = [];
  examples.forEach((e, i) => (held.has(i) ? validation : train).push(e));
  return { train, validation, note: `${k} of ${n} examples held out for validation (automatic split, seed ${opts.seed ?? 0})` };
}

/** A validation file must be in the training file's format; null when it is, else the reason. */
export function validationFormatMismatch(
  train: { file: string; format: string | null },
  validation: { file: string; format: string | null },
): string | null {
  if (train.format === null || validation.format === null || train.format === validation.format) return null;
  return `mixed formats: ${validation.file} is ${validation.format} data but ${train.file} is ${train.format} data; the validation file must match the training file`;
}

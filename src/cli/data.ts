// Dataset files named on the command line, read as the page reads dropped files: the data layer's
// readers (every format, bad lines named), and the page's rules for whether training may start.

import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { type DataProblem, describeProblem, parseDatasetFile, type ParsedDataset } from '../lib/data';
import { filesReadiness, type LoadedFiles } from '../lib/data/load.ts';
import type { ObjectiveType } from '../lib/train/objective.ts';
import { existingFile, InputError } from './model.ts';
import type { Reporter } from './output.ts';

/** At most `max` problems, one line each, then how many more. */
export function listed(problems: DataProblem[], max = 20): string[] {
  const lines = problems.slice(0, max).map(describeProblem);
  if (problems.length > max) lines.push(`… and ${problems.length - max} more`);
  return lines;
}

/** Reads and parses one dataset file given as `flag`. */
export async function readDataset(flag: string, path: string, out: Reporter): Promise<ParsedDataset> {
  const abs = await existingFile(flag, path);
  out.status('data', `Reading ${path}…`);
  return parseDatasetFile({ name: basename(abs), bytes: new Uint8Array(await readFile(abs)) });
}

/**
 * The page's readiness rules on a training file and an optional validation file for the run's
 * objective: a file-level problem, no usable example, preference pairs for SFT or other data for a
 * preference objective, mismatched formats, bad records (allowed with `skipBad`, as the page's "skip
 * bad records"). Throws an InputError naming every bad line.
 */
export function checkReady(train: ParsedDataset, validation: ParsedDataset | null, skipBad: boolean, out: Reporter, objective: ObjectiveType = 'sft'): LoadedFiles {
  const files: LoadedFiles = { names: [train.file, ...(validation ? [validation.file] : [])], train, validation, test: null, notes: [] };
  const reasons = filesReadiness(files, skipBad, objective);
  if (reasons.length) {
    const bad = train.badRecords + (validation?.badRecords ?? 0);
    const hint = bad > 0 && !skipBad ? ' (--skip-bad leaves them out)' : '';
    const problems = [train, validation].flatMap((d) => d?.problems.filter((p) => p.severity === 'error') ?? []);
    throw new InputError(reasons.join('; ') + hint, listed(problems));
  }
  for (const d of [train, validation]) {
    if (!d) continue;
    for (const note of d.notes) out.status('data', `${d.file}: ${note}`);
    if (d.badRecords > 0) out.warning(`${d.file}: ${d.badRecords} bad record${d.badRecords === 1 ? '' : 's'} left out (--skip-bad)`);
  }
  return files;
}

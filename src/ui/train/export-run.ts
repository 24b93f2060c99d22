// The training screen's export for TRL and Accelerate: the plan shown (planned, or just trained) as the
// .zip export/run.ts writes — the one `lora-playground export-run` writes — named after the run.

import { exportProblems, exportRun, type ExportOptions } from '../../lib/export/run.ts';
import { fileStem } from '../../lib/store/names.ts';
import type { TrainingPlan } from '../../lib/train/plan.ts';
import { runName } from './run.ts';

export type TrlExport =
  | { ok: true; fileName: string; zip: Uint8Array; notes: string[]; command: string }
  | { ok: false; problems: string[] };

/** The model id to offer: the plan's own when it is a Hub id (owner/name), else nothing (the user names one). */
export function defaultBaseModel(plan: TrainingPlan): string {
  return /^[\w.-]+\/[\w.-]+$/.test(plan.model.id) ? plan.model.id : '';
}

/** "LoRA-r8-pirate-qa.jsonl-trl.zip" */
export function exportFileName(plan: TrainingPlan): string {
  return `${fileStem(runName(plan))}-trl.zip`;
}

/** The plan's export, or every reason there is none. */
export function exportForTrl(plan: TrainingPlan, opts: ExportOptions): TrlExport {
  const problems = exportProblems(plan, opts);
  if (problems.length) return { ok: false, problems };
  const exported = exportRun(plan, opts);
  return { ok: true, fileName: exportFileName(plan), zip: exported.zip(), notes: exported.notes, command: exported.command };
}

// The training plan: everything a run needs besides the GPU — the prepared data, the method config
// and the training config — built by the page's dataset and method screens or by the command line,
// from the same inputs with the same checks. Plain data (typed arrays and numbers, no class
// instances), so it posts to the worker as is and a checkpoint can keep it for Resume.
//
//   model   the base model's id and config.json (the tokenizer and the trainable shapes depend on it)
//   data    the dataset, prepared: packed (rows,T) inputs and targets for train and validation
//           (data/pack.ts's convention: targets are IGNORE_INDEX where the loss does not count), and
//           the examples those rows came from, so the run can be handed to another trainer as is
//   method     the one method config (adapters/config.ts), PEFT's names
//   objective  what the loss is (train/objective.ts), TRL's names: SFT unless preference pairs are
//              trained with DPO, SimPO or ORPO
//   config     the one training config (train/config.ts), Transformers' names

import { copyMethod, type MethodConfig } from '../adapters/config.ts';
import {
  type ChatTemplateFn,
  type DatasetFormat,
  describeWhere,
  type Example,
  FORMAT_LABELS,
  type PackedRows,
  type PackMode,
  PREFERENCE_NOTE,
  type PreparedData,
  type PreparedSplit,
  quickPrompts,
} from '../data';
import type { ModelConfig } from '../model/config.ts';
import { configProblems, methodProblems, objectiveProblems } from './checks.ts';
import { copyObjective, describeObjective, isPreference, SFT, type ObjectiveConfig } from './objective.ts';
import { totalSteps, type TrainConfig } from './config.ts';
import { checkFit, fitSuggestion, NO_BUFFER_LIMITS } from './fit.ts';
import { estimateTrainingMemory, memoryProblem, trainableParamCount } from './memory.ts';

export interface PlanData {
  /** what the user picked: a file name, "train.jsonl + valid.jsonl", or a built-in sample's title */
  name: string;
  format: DatasetFormat;
  packMode: PackMode;
  /** training rows (rows,T) */
  train: PackedRows;
  /** validation rows (rows,T); rows is 0 when there was nothing to hold out (a one-example dataset) */
  validation: PackedRows;
  /** how the validation split was made, and its description for the UI */
  split: 'file' | 'auto' | 'none';
  splitNote: string;
  /** examples in each split (before packing) */
  trainExamples: number;
  validationExamples: number;
  /** bad records the user chose to skip (0 unless they did), over all files */
  skippedRecords: number;
  /** Prompts from the validation examples for the compare screen (data/prompts.ts), at most 8. */
  quickPrompts: string[];
  /** what each quick prompt's example answered, same order */
  quickReferences: string[];
  /** token id of padding in the rows (targets there are ignored, so its value never reaches the loss) */
  padId: number;
  /**
   * The examples each split's rows were packed from, in the split's order: the dataset's good
   * examples less those that could not be rendered and those packing left out (data/pack.ts leftOut).
   * What export/ hands to TRL, so another trainer sees exactly the examples this run sees.
   */
  examples: { train: Example[]; validation: Example[] };
}

export interface TrainingPlan {
  /** the base model the plan was made for (the tokenizer and the trainable shapes depend on it) */
  model: { id: string; config: ModelConfig };
  data: PlanData;
  method: MethodConfig;
  /** SFT, or a preference objective over the data's pairs */
  objective: ObjectiveConfig;
  config: TrainConfig;
  /** optimizer steps the run takes (config.max_steps, or its epochs over these rows, or pairs) */
  steps: number;
  estimate: {
    trainableParams: number;
    /** bytes of GPU memory training is expected to need (train/memory.ts) */
    memoryBytes: number;
  };
}

/** No rows, T positions each: the validation split of a dataset too small to hold one out. */
export function emptyRows(T: number, pairs = false): PackedRows {
  const rows: PackedRows = { T, rows: 0, inputIds: new Int32Array(0), targets: new Int32Array(0), countedPerRow: new Int32Array(0), countedTokens: 0, warnings: [], leftOut: [] };
  return pairs ? { ...rows, pairs: true } : rows;
}

export interface PlanInput {
  model: { id: string; config: ModelConfig };
  /** the dataset's name as the user knows it */
  name: string;
  /** prepareTraining's output, packed at config.max_length */
  prepared: PreparedData;
  /** the good examples of the training and validation files, to find the validation examples' prompts */
  sourceExamples: readonly Example[];
  chatTemplate: ChatTemplateFn | null;
  padId: number;
  /** bad records the user chose to skip */
  skippedRecords: number;
  method: MethodConfig;
  /** SFT when absent */
  objective?: ObjectiveConfig;
  config: TrainConfig;
  /** GPU bytes the run may use: a plan whose memory estimate is larger is refused with the numbers (no check when absent) */
  memoryBudget?: number;
}

export class PlanError extends Error {
  /** Every reason the plan cannot be made, each a sentence. */
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('; '));
    this.name = 'PlanError';
    this.problems = problems;
  }
}

/** Source examples by where they were read (file and line, row or item). */
function examplesByWhere(examples: readonly Example[]): Map<string, Example> {
  return new Map(examples.map((e) => [describeWhere(e.where), e]));
}

/** The source examples a prepared split's rows were packed from, in the split's order; null names one missing. */
function packedExamples(split: PreparedSplit | null, byWhere: Map<string, Example>): { examples: Example[]; missing: string | null } {
  if (!split) return { examples: [], missing: null };
  const leftOut = new Set(split.packed.leftOut.map(describeWhere));
  const examples: Example[] = [];
  for (const e of split.examples) {
    const key = describeWhere(e.where);
    if (leftOut.has(key)) continue;
    const source = byWhere.get(key);
    if (!source) return { examples, missing: key };
    examples.push(source);
  }
  return { examples, missing: null };
}

/** Every reason `buildTrainingPlan` would refuse these inputs; [] when it would succeed. */
export function planProblems(input: PlanInput): string[] {
  const { prepared, config, model } = input;
  const objective = input.objective ?? SFT;
  const p = [...methodProblems(input.method, model.config), ...objectiveProblems(objective), ...configProblems(config, model.config)];
  if (prepared.format === 'preference' && !isPreference(objective)) p.push(PREFERENCE_NOTE);
  if (prepared.format !== 'preference' && isPreference(objective)) {
    p.push(`${describeObjective(objective)} trains on preference pairs {prompt, chosen, rejected}; this dataset is ${FORMAT_LABELS[prepared.format]} data`);
  }
  const byWhere = examplesByWhere(input.sourceExamples);
  const missing = packedExamples(prepared.train, byWhere).missing ?? packedExamples(prepared.validation, byWhere).missing;
  if (missing) p.push(`${missing} was prepared but is not among the dataset's examples: the files changed since; prepare the dataset again`);
  if (prepared.train.packed.T !== config.max_length) {
    p.push(`the dataset is packed into rows of ${prepared.train.packed.T} positions, not the ${config.max_length} asked for; prepare it again`);
  }
  if (prepared.train.packed.rows === 0) p.push('no training row has a token the loss counts');
  if (input.memoryBudget !== undefined && !p.length) {
    const rowsPerExample = isPreference(objective) ? 2 : 1;
    const rows = rowsPerExample * config.per_device_train_batch_size;
    const tooBig = memoryProblem(estimateTrainingMemory(model.config, input.method, rows, config.max_length), input.memoryBudget, input.method);
    if (tooBig) {
      const settings = { method: input.method, B: config.per_device_train_batch_size, T: config.max_length, rowsPerExample };
      const instead = fitSuggestion(checkFit(model.config, settings, input.memoryBudget, NO_BUFFER_LIMITS));
      p.push(instead ? `${tooBig}. ${instead.replace(/\.$/, '')}` : tooBig);
    }
  }
  return p;
}

/** The plan a run trains. Throws a PlanError naming every problem. */
export function buildTrainingPlan(input: PlanInput): TrainingPlan {
  const problems = planProblems(input);
  if (problems.length) throw new PlanError(problems);
  const { prepared, model, method, config } = input;
  const objective = input.objective ?? SFT;
  const pairs = isPreference(objective);
  const byWhere = examplesByWhere(input.sourceExamples);
  const examples = { train: packedExamples(prepared.train, byWhere).examples, validation: packedExamples(prepared.validation, byWhere).examples };
  const quick = quickPrompts(examples.validation, { chatTemplate: input.chatTemplate });
  return {
    model: { id: model.id, config: { ...model.config, eosTokenIds: [...model.config.eosTokenIds] } },
    data: {
      name: input.name,
      format: prepared.format,
      packMode: prepared.packMode,
      train: prepared.train.packed,
      validation: prepared.validation?.packed ?? emptyRows(config.max_length, pairs),
      split: prepared.split,
      splitNote: prepared.splitNote,
      trainExamples: prepared.train.examples.length,
      validationExamples: prepared.validation?.examples.length ?? 0,
      skippedRecords: input.skippedRecords,
      quickPrompts: quick.prompts,
      quickReferences: quick.references,
      padId: input.padId,
      examples,
    },
    method: copyMethod(method),
    objective: copyObjective(objective),
    config: { ...config },
    // a preference objective's batch counts pairs, two rows each (as TRL's does)
    steps: totalSteps(config, pairs ? prepared.train.packed.rows / 2 : prepared.train.packed.rows),
    estimate: {
      trainableParams: trainableParamCount(method, model.config),
      memoryBytes: estimateTrainingMemory(model.config, method, (pairs ? 2 : 1) * config.per_device_train_batch_size, config.max_length).total,
    },
  };
}

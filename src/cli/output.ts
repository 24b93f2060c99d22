// What a command tells the person (or program) that ran it. Every command reports events; a Reporter
// prints them as lines for a person (progress on stderr, the answer on stdout) or, with --json, as
// JSON lines on stdout, one object per event, ending in one `result` or `error` object.

import type { PreferenceMetrics } from '../lib/train/objective.ts';
import type { TrainUpdate } from '../lib/train/run.ts';

export type CliEvent =
  | { event: 'status'; stage: string; message: string }
  | { event: 'progress'; file: string; loaded: number; total: number; unit?: string }
  | { event: 'warning'; message: string }
  | { event: 'token'; index: number; id: number; text: string }
  | ({ event: 'train' } & TrainUpdate)
  | ({ event: 'round' } & Record<string, unknown>)
  | ({ event: 'rank' } & Record<string, unknown>)
  | ({ event: 'result'; command: string } & Record<string, unknown>)
  | { event: 'error'; message: string; problems?: string[] };

export interface Streams {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

export interface Reporter {
  readonly json: boolean;
  status(stage: string, message: string): void;
  /** How far a job is: bytes of a file read, or `unit`s done (e.g. a tokenizer's merges). */
  progress(file: string, loaded: number, total: number, unit?: string): void;
  warning(message: string): void;
  token(index: number, id: number, text: string): void;
  /** A training run's progress (train/run.ts's events, as the page's worker sends them). */
  train(update: TrainUpdate): void;
  /** One finished round of an outer loop (RAFT): `fields` in JSON, `human` as a line on stderr. */
  round(fields: Record<string, unknown>, human: string): void;
  /** A question for the user (RAFT's ranking: a round's samples), answered on stdin: `fields` in JSON, `human` lines on stderr. */
  rank(fields: Record<string, unknown>, human: string[]): void;
  /** The command's answer: `fields` in JSON; for a person, `out` lines on stdout and `note` lines on stderr. */
  result(command: string, fields: Record<string, unknown>, human: { out?: string[]; note?: string[] }): void;
  error(message: string, problems?: string[]): void;
}

const MB = 1024 * 1024;
const size = (n: number) => (n >= MB ? `${(n / MB).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`);

/** JSON for a line: non-finite numbers (which JSON cannot hold) become null. */
function line(event: CliEvent): string {
  return JSON.stringify(event, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n';
}

export function jsonReporter(io: Streams): Reporter {
  const emit = (e: CliEvent) => io.stdout.write(line(e));
  return {
    json: true,
    status: (stage, message) => emit({ event: 'status', stage, message }),
    progress: (file, loaded, total, unit) => emit({ event: 'progress', file, loaded, total, ...(unit ? { unit } : {}) }),
    warning: (message) => emit({ event: 'warning', message }),
    token: (index, id, text) => emit({ event: 'token', index, id, text }),
    train: (update) => emit({ event: 'train', ...update }),
    round: (fields) => emit({ event: 'round', ...fields }),
    rank: (fields) => emit({ event: 'rank', ...fields }),
    result: (command, fields) => emit({ event: 'result', command, ...fields }),
    error: (message, problems) => emit(problems?.length ? { event: 'error', message, problems } : { event: 'error', message }),
  };
}

/**
 * For a person: status and warnings on stderr (progress too, redrawn in place, when stderr is a
 * terminal), generated text streamed to stdout, the answer on stdout.
 */
export function humanReporter(io: Streams): Reporter {
  let redrawn = false; // a progress line is on screen, without its newline
  let streamed = false; // generated text was written to stdout, without a final newline
  const err = (s: string) => {
    if (redrawn) io.stderr.write('\n');
    redrawn = false;
    io.stderr.write(s + '\n');
  };
  const endStream = () => {
    if (streamed) io.stdout.write('\n');
    streamed = false;
  };
  return {
    json: false,
    status: (_stage, message) => err(message),
    progress: (file, loaded, total, unit) => {
      if (!io.stderr.isTTY) return;
      const pct = total > 0 ? ` ${Math.floor((100 * loaded) / total)}%` : '';
      const amount = unit ? `${loaded.toLocaleString('en')} of ${total.toLocaleString('en')} ${unit}` : `${size(loaded)}${total > 0 ? ' of ' + size(total) : ''}`;
      io.stderr.write(`\r${file}: ${amount}${pct}\x1b[K`);
      redrawn = true;
    },
    warning: (message) => err(`warning: ${message}`),
    token: (_index, _id, text) => {
      if (!text) return;
      io.stdout.write(text);
      streamed = true;
    },
    train: (u) => {
      const line = trainLine(u);
      if (line) err(line);
    },
    round: (_fields, human) => err(human),
    rank: (_fields, human) => human.forEach(err),
    result: (_command, _fields, human) => {
      endStream();
      if (redrawn) io.stderr.write('\n');
      redrawn = false;
      for (const l of human.note ?? []) err(l);
      for (const l of human.out ?? []) io.stdout.write(l + '\n');
    },
    error: (message, problems) => {
      endStream();
      const detail = problems?.length && !message.includes(problems[0]) ? problems.map((p) => `\n  - ${p}`).join('') : '';
      err(`error: ${message}${detail}`);
    },
  };
}

/** A preference objective's metrics in a line: TRL's names, the ones a person reads first. */
function metricsLine(m: PreferenceMetrics): string {
  return `rewards/accuracies ${m['rewards/accuracies'].toFixed(3)}  rewards/margins ${m['rewards/margins'].toFixed(4)}  rewards/chosen ${m['rewards/chosen'].toFixed(4)}  rewards/rejected ${m['rewards/rejected'].toFixed(4)}  logps/chosen ${m['logps/chosen'].toFixed(3)}  logps/rejected ${m['logps/rejected'].toFixed(3)}`;
}

/**
 * A training event in words, or null for the ones a person need not see: the first three steps, then
 * about twenty over the run and the last, every validation loss, every stage.
 */
function trainLine(u: TrainUpdate): string | null {
  switch (u.kind) {
    case 'start':
      if (u.objective !== 'sft') {
        return `Training ${u.trainableParams.toLocaleString('en')} parameters with ${u.objective.toUpperCase()}: ${u.rows / 2} pairs (${u.validationRows / 2} held out), batch ${u.batch} pairs × ${u.seqLen}, ${u.totalSteps} steps${u.step ? `, from step ${u.step}` : ''}`;
      }
      return `Training ${u.trainableParams.toLocaleString('en')} parameters: ${u.rows} rows (${u.validationRows} held out), batch ${u.batch} × ${u.seqLen}, ${u.totalSteps} steps${u.step ? `, from step ${u.step}` : ''}`;
    case 'stage':
      return u.message;
    case 'step': {
      const every = Math.max(1, Math.round(u.totalSteps / 20));
      if (u.step > 3 && u.step % every !== 0 && u.step !== u.totalSteps) return null;
      const speed = u.elapsedMs > 0 ? `${Math.round((u.tokens * 1000) / u.elapsedMs)} tok/s` : '';
      return `step ${u.step}/${u.totalSteps}  loss ${u.loss.toFixed(4)}  ${u.metrics ? metricsLine(u.metrics) + '  ' : ''}lr ${u.lr.toExponential(2)}  ${speed}`;
    }
    case 'validation': {
      const accuracy = u.tokenAccuracy !== undefined ? `, token accuracy ${u.tokenAccuracy.toFixed(3)}` : '';
      if (u.metrics) return `step ${u.step}  validation loss ${u.loss.toFixed(4)}  ${metricsLine(u.metrics)}`;
      return `step ${u.step}  validation loss ${u.loss.toFixed(4)} (perplexity ${Math.exp(u.loss).toFixed(2)}${accuracy})`;
    }
    case 'best':
      return null; // the validation line just said it; the result names the best step
    case 'restored':
      return u.reason;
    case 'checkpoint':
      return null;
    case 'sample':
      return `step ${u.step}  sample: ${JSON.stringify(u.text)}`;
    case 'general':
      return u.before === null
        ? `general text: loss ${u.loss.toFixed(4)} (perplexity ${Math.exp(u.loss).toFixed(1)}) before training`
        : `general text: perplexity ${Math.exp(u.loss).toFixed(1)} (was ${Math.exp(u.before).toFixed(1)})`;
  }
}

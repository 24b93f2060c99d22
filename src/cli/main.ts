// The command line's entry: picks the command, parses its flags, runs it with a Reporter, and turns
// every failure into one error event and an exit code. bin/lora-playground.mjs loads this file through
// Vite's module runner (the sources import WGSL with `?raw`) after giving Dawn a Vulkan driver, and
// owns the process: signals, exit code.

import { readFileSync } from 'node:fs';
import { type Command, commandHelp, COMMON_FLAGS, type Flags, type Parsed, parseFlags, PROGRAM, programHelp, UsageError } from './args.ts';
import { evalCommand, runEval } from './eval.ts';
import { exportRunCommand, runExportRun } from './export-run.ts';
import { generateCommand, runGenerate } from './generate.ts';
import { modelsCommand, runModels } from './models.ts';
import { humanReporter, jsonReporter, type Reporter, type Streams } from './output.ts';
import { pretrainCommand, runPretrain } from './pretrain.ts';
import { raftCommand, runRaftCommand } from './raft.ts';
import { runScore, scoreCommand } from './score.ts';
import { runTrain, trainCommand } from './train.ts';

/** 0 done; 1 failed (bad input, a GPU problem, a run that diverged); 2 a mistake on the command line. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

interface Entry {
  command: Command;
  run(argv: string[], out: Reporter, signal: AbortSignal, io: Streams): Promise<void>;
}

/** A command with its runner, the flags parsed (or --help printed) before it runs. */
function entry<S extends Flags>(command: Command<S>, run: (args: Parsed<S & typeof COMMON_FLAGS>, out: Reporter, signal: AbortSignal) => Promise<void>): Entry {
  return {
    command: command as unknown as Command,
    async run(argv, out, signal, io) {
      const args = parseFlags(command, argv);
      if (args.help) io.stdout.write(commandHelp(command as unknown as Command));
      else await run(args, out, signal);
    },
  };
}

const COMMANDS: Entry[] = [
  entry(generateCommand, runGenerate),
  entry(evalCommand, runEval),
  entry(trainCommand, runTrain),
  entry(exportRunCommand, runExportRun),
  entry(scoreCommand, runScore),
  entry(raftCommand, runRaftCommand),
  entry(pretrainCommand, runPretrain),
  entry(modelsCommand, runModels),
];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return `${PROGRAM} ${pkg.version}`;
}

/** Runs one command line (the words after the program's name); resolves to the exit code. */
export async function main(argv: string[], opts: { signal?: AbortSignal; io?: Streams } = {}): Promise<number> {
  const io: Streams = opts.io ?? { stdout: process.stdout, stderr: process.stderr };
  const signal = opts.signal ?? new AbortController().signal;
  const out = argv.includes('--json') ? jsonReporter(io) : humanReporter(io);
  const [name, ...rest] = argv;
  const commands = COMMANDS.map((c) => c.command);

  if (name === undefined) {
    io.stderr.write(programHelp(commands));
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = COMMANDS.find((c) => c.command.name === rest[0]);
    io.stdout.write(topic ? commandHelp(topic.command) : programHelp(commands));
    return EXIT.ok;
  }
  if (name === '--version') {
    io.stdout.write(version() + '\n');
    return EXIT.ok;
  }

  try {
    const command = COMMANDS.find((c) => c.command.name === name);
    if (!command) {
      throw new UsageError(`unknown command ${JSON.stringify(name)}: the commands are ${commands.map((c) => c.name).join(', ')} (see \`${PROGRAM} --help\`)`);
    }
    await command.run(rest, out, signal, io);
    return EXIT.ok;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const problems = (e as { problems?: unknown }).problems;
    out.error(message, Array.isArray(problems) ? problems.map(String) : undefined);
    return e instanceof UsageError ? EXIT.usage : EXIT.failed;
  }
}

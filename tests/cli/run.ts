// Runs the real `lora-playground` (bin/lora-playground.mjs) as a subprocess, as a user would: with a
// plain environment (no VK_ICD_FILENAMES, no LD_LIBRARY_PATH: the launcher finds a driver itself).

import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'lora-playground.mjs');
export const MODEL = join(ROOT, 'models', 'brown-llama-4m');

export interface CliEvent {
  event: string;
  [key: string]: unknown;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout's lines parsed as JSON (throws if one is not JSON: every --json line must be). */
  events(): CliEvent[];
  /** The last event, which must be the result. */
  result(): CliEvent & Record<string, unknown>;
  error(): { message: string; problems?: string[] };
}

export interface RunOptions {
  /** Called with each complete stdout line as it arrives, and the child (e.g. to send it a signal). */
  onLine?: (line: string, child: ReturnType<typeof spawn>) => void;
  /** Give the child a stdin pipe (child.stdin, for onLine to write to); otherwise stdin is empty. */
  stdin?: boolean;
}

export function runCli(args: string[], opts: RunOptions = {}): Promise<CliRun> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? ROOT };
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    let i;
    while ((i = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, i);
      pending = pending.slice(i + 1);
      opts.onLine?.(line, child);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const events = () =>
        stdout
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => {
            try {
              return JSON.parse(l) as CliEvent;
            } catch {
              throw new Error(`stdout line is not JSON: ${l}\nstderr: ${stderr}`);
            }
          });
      resolve({
        code,
        stdout,
        stderr,
        events,
        result() {
          const last = events().at(-1);
          if (last?.event !== 'result') throw new Error(`the last event is not a result: ${JSON.stringify(last)}\nstderr: ${stderr}`);
          return last;
        },
        error() {
          const last = events().at(-1);
          if (last?.event !== 'error') throw new Error(`the last event is not an error: ${JSON.stringify(last)}\nstderr: ${stderr}`);
          return last as unknown as { message: string; problems?: string[] };
        },
      });
    });
  });
}

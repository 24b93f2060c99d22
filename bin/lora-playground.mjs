#!/usr/bin/env node
// The `lora-playground` command: runs src/cli/main.ts, the TypeScript sources themselves, in Node.
//
// The sources import WGSL with Vite's `?raw` suffix and each other with .ts extensions, and nothing is
// built at install time (.npmrc has ignore-scripts=true), so they are loaded through Vite's module
// runner (vite-runner.mjs): Vite (a devDependency, there after `npm ci`) transforms each file as it is
// imported; packages under node_modules are imported by Node itself.
//
// Before that, Dawn (the `webgpu` package) is given a Vulkan driver when the machine has none (see
// src/lib/gpu/vulkan-env.mjs): VK_ICD_FILENAMES is set here; LD_LIBRARY_PATH is only read when a
// process starts, so when it is needed this launcher starts itself again with it, forwards signals,
// and exits as its copy did.

import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vulkanSetup } from '../src/lib/gpu/vulkan-env.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Set in the restarted copy, so it never restarts again. */
const RESTARTED = 'LORA_PLAYGROUND_RESTARTED';
/**
 * After Ctrl-C the command stops at its next check (generation between two tokens; training after
 * the step it is in, then it writes what it trained); if it has not ended by then, it is ended.
 */
const STOP_DEADLINE_MS = 120_000;

const signalExit = (signal) => 128 + (constants.signals[signal] ?? 1);

/** Starts this launcher again with `env`, and ends as it ends (its exit code, or its signal). */
function restart(env) {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env });
  const forward = (signal) => child.kill(signal);
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, forward);
  child.on('error', (e) => {
    process.stderr.write(`lora-playground: could not start node again: ${e.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    for (const s of signals) process.off(s, forward);
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}

/** Loads src/cli/main.ts through Vite's module runner and runs the command line. */
async function run() {
  const controller = new AbortController();
  let caught = null;
  const onSignal = (signal) => {
    if (caught) return; // one stop is enough (a restarted copy may see Ctrl-C twice: terminal and launcher)
    caught = signal;
    controller.abort(new Error(`stopped by ${signal}`));
    setTimeout(() => process.exit(signalExit(signal)), STOP_DEADLINE_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let createRunner;
  try {
    ({ createRunner } = await import('./vite-runner.mjs'));
  } catch (e) {
    if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
    process.stderr.write(`lora-playground: ${e.message}\nIt runs its TypeScript sources through Vite, a devDependency: run \`npm ci\` (without --omit=dev) in ${ROOT}.\n`);
    process.exitCode = 1;
    return;
  }
  const { runner, close } = await createRunner(ROOT);
  let code;
  try {
    const { main } = await runner.import('/src/cli/main.ts');
    code = await main(process.argv.slice(2), { signal: controller.signal });
  } catch (e) {
    process.stderr.write(`lora-playground: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    code = 1;
  } finally {
    await close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  process.exitCode = caught ? signalExit(caught) : code;
}

const setup = vulkanSetup();
if (setup.restart && !process.env[RESTARTED]) restart({ ...process.env, ...setup.set, [RESTARTED]: '1' });
else {
  Object.assign(process.env, setup.set); // read by the Vulkan loader when Dawn first loads it
  await run();
}

// `npm run bench -- --model NAME [--shapes 1x32,2x64] [--iters 2]`: bench/model.ts (a full-size model
// in the engine, in Node through Dawn) run through the command line's module runner, with the Vulkan
// driver set up as bin/lora-playground.mjs sets it (SwiftShader where there is no GPU). Prints ONE JSON
// object on stdout (also written to bench-results/bench-<NAME>.json); progress goes to stderr.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vulkanSetup } from '../src/lib/gpu/vulkan-env.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const RESTARTED = 'LORA_PLAYGROUND_RESTARTED';

function flag(args, name, fallback) {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  if (i + 1 >= args.length) throw new Error(`${name} needs a value`);
  return args[i + 1];
}

export async function benchModelCommand(args) {
  const setup = vulkanSetup();
  if (setup.restart && !process.env[RESTARTED]) {
    // LD_LIBRARY_PATH is read only when a process starts: run again with it.
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...args], { stdio: 'inherit', env: { ...process.env, ...setup.set, [RESTARTED]: '1' } });
    process.exitCode = r.status ?? 1;
    return;
  }
  Object.assign(process.env, setup.set);
  const name = flag(args, '--model');
  const shapes = flag(args, '--shapes', '1x32,2x64').split(',').map((s) => {
    const m = /^(\d+)x(\d+)$/.exec(s.trim());
    if (!m) throw new Error(`--shapes: "${s}" is not BxT, e.g. 2x64`);
    return [Number(m[1]), Number(m[2])];
  });
  const iters = Number(flag(args, '--iters', '2'));
  const started = Date.now();
  const loadBefore = loadavg()[0];
  const { createRunner } = await import('../bin/vite-runner.mjs');
  const { runner, close } = await createRunner(ROOT);
  try {
    const { benchModel } = await runner.import('/bench/model.ts');
    const log = (line) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
    const result = await benchModel(name, { shapes, iters, log });
    // Other work on the machine slows a CPU-backed adapter (SwiftShader) down: say how busy it was.
    result.host = { cpus: cpus().length, loadavg_1m_before: Math.round(loadBefore * 100) / 100, loadavg_1m_after: Math.round(loadavg()[0] * 100) / 100 };
    result.total_seconds = Math.round((Date.now() - started) / 100) / 10;
    const out = join(ROOT, 'bench-results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, `bench-${name}.json`), JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } finally {
    await close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  benchModelCommand(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  });
}

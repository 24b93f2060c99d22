// `npm run bench`: builds the benchmark page (bench/, its own Vite config), serves it and models/ on
// loopback with cross-origin isolation, opens it in Debian's headless Chromium with WebGPU (never a
// downloaded browser), waits for the page's result and prints it as ONE JSON object on stdout (also
// written to bench-results/bench.json). Progress goes to stderr.
//
// `npm run bench -- --model smollm2-135m` measures a full-size checkpoint in Node instead
// (scripts/bench-model.mjs, bench/model.ts).
//
// Settings pass through to the page as URL parameters, e.g.
//   BENCH_PARAMS='B=8&T=128&forwardIters=3' npm run bench
// (see SETTINGS in bench/bench.ts). CHROMIUM_PATH overrides /usr/bin/chromium.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'vite';
import { CHROMIUM, launchChromium } from './chromium.mjs';
import { startStaticServer } from './static-server.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'bench-results');
const SITE = join(OUT, 'site');
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 15 * 60_000);

const started = Date.now();
const round2 = (x) => Math.round(x * 100) / 100;
const say = (msg) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);

async function main() {
  say('building bench/ with Vite');
  await build({ configFile: join(ROOT, 'bench', 'vite.config.ts'), logLevel: 'warn' });

  const server = await startStaticServer({ '/': SITE, '/models/': join(ROOT, 'models') });
  let browser;
  try {
    browser = await launchChromium({ webgpu: true });
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('console', (m) => {
      const text = m.text();
      if (text.startsWith('[bench')) process.stderr.write(`  page ${text}\n`);
      else if (m.type() === 'error' || m.type() === 'warning') process.stderr.write(`  page ${m.type()}: ${text}\n`);
    });
    page.on('pageerror', (e) => process.stderr.write(`  page error: ${e.message}\n`));

    const loadBefore = loadavg();
    const params = process.env.BENCH_PARAMS ? `?${process.env.BENCH_PARAMS}` : '';
    say(`opening ${server.url}${params} in ${CHROMIUM}`);
    await page.goto(server.url + params);
    await page.waitForFunction(() => window.__BENCH__ !== undefined || window.__BENCH_ERROR__ !== undefined, undefined, {
      timeout: TIMEOUT_MS,
      polling: 500,
    });
    const error = await page.evaluate(() => window.__BENCH_ERROR__);
    if (error) throw new Error(`the benchmark page failed: ${error}`);
    const result = await page.evaluate(() => window.__BENCH__);
    result.browser = `${CHROMIUM}: ${await page.evaluate(() => navigator.userAgent)}`;
    // Other work on the machine slows a CPU-backed adapter (SwiftShader) down: say how busy it was.
    result.host = { cpus: cpus().length, loadavg_1m_before: round2(loadBefore[0]), loadavg_1m_after: round2(loadavg()[0]) };
    result.total_seconds = Math.round((Date.now() - started) / 100) / 10;
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'bench.json'), JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    say(`done; also written to ${join(OUT, 'bench.json')}`);
  } finally {
    await browser?.close();
    await server.close();
  }
}

// `--model NAME` measures a full-size model in Node instead (scripts/bench-model.mjs).
const run = process.argv.includes('--model') ? import('./bench-model.mjs').then((m) => m.benchModelCommand(process.argv.slice(2))) : main();
run.catch((err) => {
  process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
});

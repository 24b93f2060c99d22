// End to end: the Evaluate panel on the shipped model. A test file of three questions, three columns —
// the base, an imported (random) adapter and the 2-shot base — with the chat template and a system
// prompt; the page's per-example numbers and its predictions.jsonl must be those of `lora-playground
// eval --json --out` on the same file, adapter and settings (the same library, run by the CLI in Node).
// Screenshots: docs/screenshots/prompt-view.png and eval-view.png.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StaticServer } from '../../scripts/static-server.mjs';
import { MODEL, runCli } from '../cli/run.ts';
import { openPage, waitForModel, type Browser } from './browser.ts';
import { importAdapter, waitForEngine } from './helpers-train.ts';
import { randomLoraZip } from './random-adapter.ts';
import { ROOT, startSite } from './site.ts';

const SHOTS = resolve(ROOT, 'docs/screenshots');
const TUNED = 'Random tune';
const SYSTEM = 'Answer like a pirate.';
const TEST = [
  { prompt: 'Question: What is the sun?\nAnswer:', completion: ' Arr, a star, matey!' },
  { prompt: 'Question: What is the sea?\nAnswer:', completion: ' Arr, salt water, matey!' },
  { prompt: 'Question: What is the moon?\nAnswer:', completion: ' Arr, a rock, matey!' },
];
const TEST_JSONL = TEST.map((x) => JSON.stringify(x)).join('\n') + '\n';
const MAX_NEW = 5;

let site: StaticServer;
let browser: Browser;
let page: Page;
let tmp: string;
/** The command line on the same inputs, started with the page so the two overlap. */
let cliRun: ReturnType<typeof runCli>;
const panel = () => page.getByRole('region', { name: 'Evaluate', exact: true });

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-playground-eval-e2e-'));
  site = await startSite('/playground/');
  ({ browser, page } = await openPage({ webgpu: true }, site.url));
  await waitForModel(page);
  await waitForEngine(page);
  const zip = randomLoraZip(TUNED, 11, 1.5);
  writeFileSync(join(tmp, 'tune.zip'), zip);
  writeFileSync(join(tmp, 'test.jsonl'), TEST_JSONL);
  cliRun = runCli([
    'eval', '--model', MODEL, '--data', join(tmp, 'test.jsonl'), '--adapter', join(tmp, 'tune.zip'),
    '--shots', '2', '--pick', 'random', '--seed', '0', '--chat', '--system', SYSTEM,
    '--max-new-tokens', String(MAX_NEW), '--out', join(tmp, 'predictions.jsonl'), '--json',
  ]);
  expect(await importAdapter(page, [{ name: 'tune.zip', buffer: zip }])).toBeNull();
});
afterAll(async () => {
  await cliRun?.catch(() => {});
  await browser?.close();
  await site?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Line {
  index: number;
  column: string;
  prompt: string;
  reference: string;
  prediction: string;
  loss: number;
  tokens: number;
  token_accuracy: number;
  exact_match: number;
  rouge_l: number;
  chrf: number;
  shots: number;
}
const parse = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l) as Line);

describe('the Evaluate panel', () => {
  let pageLines: Line[];

  it('shows the prompt as the model sees it: the chat template with the system prompt, and the 2-shot prompt', async () => {
    const p = panel();
    await p.getByTestId('eval-file').setInputFiles({ name: 'test.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(TEST_JSONL) });
    await p.getByRole('radio', { name: /A test file: test\.jsonl \(3 examples\)/ }).waitFor();
    expect(await p.getByRole('radio', { name: /A test file/ }).isChecked()).toBe(true);
    await p.getByRole('checkbox', { name: `${TUNED} (adapter)` }).check();
    await p.getByRole('checkbox', { name: 'Base model, k-shot' }).check();
    await p.getByRole('spinbutton', { name: 'Shots (k)' }).fill('2');
    await p.getByRole('checkbox', { name: /Use the chat template/ }).check();
    await p.getByRole('textbox', { name: 'System prompt' }).fill(SYSTEM);
    const rendered = p.getByTestId('rendered-prompt');
    await rendered.nth(1).waitFor();
    expect(await rendered.nth(0).innerText()).toBe(`<|im_start|>system\n${SYSTEM}<|im_end|>\n<|im_start|>user\n${TEST[0].prompt}<|im_end|>\n<|im_start|>assistant\n`);
    const shot = await rendered.nth(1).innerText();
    expect(shot.startsWith(`<|im_start|>system\n${SYSTEM}<|im_end|>\n`)).toBe(true);
    expect(shot.match(/<\|im_start\|>assistant\n/g)).toHaveLength(3);
    expect(shot.endsWith(`<|im_start|>user\n${TEST[0].prompt}<|im_end|>\n<|im_start|>assistant\n`)).toBe(true);
    await p.getByTestId('prompt-view').screenshot({ path: resolve(SHOTS, 'prompt-view.png') });
  });

  it('evaluates the three columns with progress, then shows totals and every example; the export is predictions.jsonl', async () => {
    const p = panel();
    await p.getByRole('spinbutton', { name: 'Greedy tokens per example' }).fill(String(MAX_NEW));
    await p.getByRole('button', { name: 'Evaluate', exact: true }).click();
    await p.getByRole('progressbar', { name: 'Evaluation' }).waitFor({ timeout: 60_000 });
    await p.getByTestId('eval-total').nth(2).waitFor({ timeout: 600_000 });
    expect(await p.getByRole('alert').count()).toBe(0);
    const names = await p.getByTestId('eval-total').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-column')));
    expect(names).toEqual(['base', TUNED, '2-shot base']);
    expect(await p.getByTestId('eval-example').count()).toBe(3);

    const [download] = await Promise.all([page.waitForEvent('download'), p.getByRole('button', { name: 'Export predictions.jsonl' }).click()]);
    expect(download.suggestedFilename()).toBe('predictions.jsonl');
    pageLines = parse(readFileSync(await download.path(), 'utf8'));
    expect(pageLines).toHaveLength(9);
    expect(pageLines.map((l) => l.column).slice(0, 3)).toEqual(['base', TUNED, '2-shot base']);

    // Sorted by the change in loss from the base to the adapter, largest first: the rows' order follows it.
    await p.getByRole('combobox', { name: 'Sort by column' }).selectOption(TUNED);
    const order = await p.getByTestId('eval-example').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-index'))));
    const change = (i: number) => pageLines[i * 3 + 1].loss - pageLines[i * 3].loss;
    expect(order).toEqual([0, 1, 2].sort((a, b) => change(b) - change(a)));
    await p.screenshot({ path: resolve(SHOTS, 'eval-view.png') });
  });

  it("gives the command line's numbers for the same file, adapter and settings", async () => {
    const r = await cliRun;
    expect(r.code, r.stderr).toBe(0);
    const cli = parse(readFileSync(join(tmp, 'predictions.jsonl'), 'utf8'));
    expect(cli).toHaveLength(pageLines.length);
    cli.forEach((c, i) => {
      const w = pageLines[i];
      const what = `example ${c.index}, column ${c.column}`;
      expect({ index: w.index, prompt: w.prompt, reference: w.reference, prediction: w.prediction, tokens: w.tokens, shots: w.shots }, what).toEqual({
        index: c.index, prompt: c.prompt, reference: c.reference, prediction: c.prediction, tokens: c.tokens, shots: c.shots,
      });
      expect(w.token_accuracy, what).toBe(c.token_accuracy);
      expect([w.exact_match, w.rouge_l, w.chrf], what).toEqual([c.exact_match, c.rouge_l, c.chrf]);
      // The same WGSL on two WebGPU implementations (Chromium's and Dawn's in Node): equal up to float rounding.
      expect(Math.abs(w.loss - c.loss), what).toBeLessThan(1e-4 * Math.max(1, Math.abs(c.loss)));
    });
    // The page's totals are the library's totals of the same rows: the CLI's, column by column.
    const totals = (r.result().columns as { totals: { loss: number; tokenAccuracy: number; exactMatch: number; chrF: number } }[]).map((c) => c.totals);
    const shown = await panel().getByTestId('eval-total').evaluateAll((rows) => rows.map((x) => ({ loss: Number(x.getAttribute('data-loss')), acc: Number(x.getAttribute('data-token-accuracy')), chrF: Number(x.getAttribute('data-chrf')) })));
    shown.forEach((s, i) => {
      expect(Math.abs(s.loss - totals[i].loss)).toBeLessThan(1e-4 * Math.max(1, totals[i].loss));
      expect(s.acc).toBe(totals[i].tokenAccuracy);
      expect(s.chrF).toBeCloseTo(totals[i].chrF, 10);
    });
  });
});

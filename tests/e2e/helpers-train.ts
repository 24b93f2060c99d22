// Helpers for the training end-to-end tests: a tiny dataset, and the training, compare and adapter
// screens used the way a person does (controls found by role and label).

import type { Page } from 'playwright-core';

/**
 * A small prompt/completion dataset whose completions all give one short answer: after training, the
 * tuned model gives it to any question of the same shape (validation ones included), while the base
 * model (trained on the Brown corpus) has never seen it.
 */
export const ANSWER = ' Arr, matey!';
export function pirateDataset(n = 12): string {
  const things = ['sun', 'moon', 'sea', 'wind', 'ship', 'sky', 'rain', 'fish', 'star', 'tree', 'road', 'bird', 'fire', 'snow', 'river', 'stone'];
  return (
    things
      .slice(0, n)
      .map((t) => JSON.stringify({ prompt: `Question: What is the ${t}?\nAnswer:`, completion: ANSWER }))
      .join('\n') + '\n'
  );
}

/** Uploads a file through the dataset screen's file input and waits for a ready plan. */
export async function uploadDataset(page: Page, name: string, content: string, timeout = 120_000): Promise<void> {
  await page.getByLabel('Dataset files').setInputFiles({ name, mimeType: 'application/jsonl', buffer: Buffer.from(content) });
  try {
    await page.getByTestId('dataset-status').filter({ hasText: 'Ready to train' }).waitFor({ timeout });
  } catch (err) {
    const status = await page
      .locator('section.dataset')
      .innerText({ timeout: 5000 })
      .catch(() => '(no dataset section)');
    throw new Error(`the dataset did not become ready:\n${status}`, { cause: err });
  }
}

export interface TrainingSettings {
  lr: number;
  steps: number;
  batch: number;
  seqLen: number;
  warmup: number;
  evalEvery: number;
}

export async function setTraining(page: Page, s: TrainingSettings): Promise<void> {
  const field = (label: string) => page.getByRole('spinbutton', { name: label, exact: true });
  await field('Learning rate').fill(String(s.lr));
  await field('Steps').fill(String(s.steps));
  await field('Batch size').fill(String(s.batch));
  await field('Max sequence length').fill(String(s.seqLen));
  await field('Warm-up steps').fill(String(s.warmup));
  await field('Evaluate every').fill(String(s.evalEvery));
  await page.getByTestId('plan-status').filter({ hasText: `${s.steps} steps` }).waitFor({ timeout: 60_000 });
}

/**
 * Ticks or unticks "Measure the general text in every new run" (on by default; on SwiftShader its two
 * passes add about a minute to a run, so the files that do not test forgetting untick it).
 */
export async function measureGeneralText(page: Page, on: boolean): Promise<void> {
  await page.getByTestId('forgetting-measure').setChecked(on);
}

/** Waits until the engine (WGSL) has loaded next to the base model. */
export async function waitForEngine(page: Page, timeout = 300_000): Promise<void> {
  const status = page.getByTestId('train-engine-status');
  await page.waitForFunction(
    () => ['ready', 'error'].includes(document.querySelector('[data-testid="train-engine-status"]')?.getAttribute('data-phase') ?? ''),
    undefined,
    { timeout, polling: 250 },
  );
  if ((await status.getAttribute('data-phase')) === 'error') throw new Error(await status.innerText());
}

/** The phases a run ends in: finished, stopped (paused), diverged (a NaN loss), device-lost, error. */
const ENDED = ['finished', 'stopped', 'diverged', 'device-lost', 'error'];

/** Waits until the run has ended and returns the phase it ended in (the status's data-phase). */
export async function waitForRunEnd(page: Page, timeout = 900_000): Promise<string> {
  await page.waitForFunction(
    (ended: string[]) => ended.includes(document.querySelector('[data-testid="train-status"]')?.getAttribute('data-phase') ?? ''),
    ENDED,
    { timeout, polling: 250 },
  );
  return (await page.getByTestId('train-status').getAttribute('data-phase')) ?? '';
}

/** Presses "Resume from step `step`" and waits until the resumed run has ended; returns its phase. */
export async function resumeRun(page: Page, step: number): Promise<string> {
  await page.getByRole('button', { name: `Resume from step ${step}` }).click();
  return waitForRunEnd(page);
}

/** The training screen's status line and any error, for failure messages. */
export async function trainStatus(page: Page): Promise<string> {
  const parts = [page.getByTestId('train-status'), page.getByTestId('train-message'), page.getByTestId('train-error')];
  const texts = await Promise.all(parts.map((p) => p.innerText({ timeout: 1000 }).catch(() => '')));
  return texts.filter(Boolean).join(' | ');
}

/** Waits until the run has done at least `step` steps. */
export async function waitForStep(page: Page, step: number, timeout = 900_000): Promise<void> {
  await page.waitForFunction(
    (n) => Number(document.querySelector('[data-testid="train-step"]')?.getAttribute('data-value') ?? -1) >= n,
    step,
    { timeout, polling: 100 },
  );
}

export interface TrainReadout {
  step: number;
  firstLoss: number;
  lastLoss: number;
  firstVal: number;
  lastVal: number;
  tokensPerSecond: number;
  checkpointStep: number | null;
}

export async function readTraining(page: Page): Promise<TrainReadout> {
  const num = async (testId: string, attr: string) => Number(await page.getByTestId(testId).getAttribute(attr));
  const ck = await page.getByTestId('train-checkpoint').getAttribute('data-step');
  return {
    step: await num('train-step', 'data-value'),
    firstLoss: await num('train-loss', 'data-first'),
    lastLoss: await num('train-loss', 'data-last'),
    firstVal: await num('train-val-loss', 'data-first'),
    lastVal: await num('train-val-loss', 'data-last'),
    tokensPerSecond: await num('train-tps', 'data-value'),
    checkpointStep: ck ? Number(ck) : null,
  };
}

/** Names of the saved adapters, as the list shows them (newest first). */
export async function adapterNames(page: Page): Promise<string[]> {
  return page.getByTestId('adapter-item').evaluateAll((items) => items.map((i) => i.getAttribute('data-name') ?? ''));
}

export interface CompareOutput {
  left: string;
  right: string;
  leftIds: number[];
  rightIds: number[];
}

/** Picks both sides (by their option labels), fills the text, presses Compare, waits for both sides. */
export async function compare(page: Page, o: { left: string; right: string; text: string }, timeout = 600_000): Promise<CompareOutput> {
  await page.getByRole('combobox', { name: 'Left side' }).selectOption({ label: o.left });
  await page.getByRole('combobox', { name: 'Right side' }).selectOption({ label: o.right });
  await page.getByRole('textbox', { name: 'Text to continue (both sides)' }).fill(o.text);
  const sides = page.getByTestId('compare-sides');
  const before = Number(await sides.getAttribute('data-runs'));
  await page.getByRole('button', { name: 'Compare', exact: true }).click();
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="compare-sides"]')?.getAttribute('data-runs')) > n, before, {
    timeout,
    polling: 250,
  });
  const failure = page.getByText(/Comparison failed/);
  if (await failure.isVisible()) throw new Error(await failure.innerText());
  const ids = async (which: string) => ((await page.getByTestId(`compare-${which}-ids`).textContent()) ?? '').split(' ').filter(Boolean).map(Number);
  return {
    left: (await page.getByTestId('compare-left-text').textContent()) ?? '',
    right: (await page.getByTestId('compare-right-text').textContent()) ?? '',
    leftIds: await ids('left'),
    rightIds: await ids('right'),
  };
}

/** Sets the sampling in the Compare panel (the same settings as the Generate panel's). */
export async function setSampling(page: Page, s: { maxNewTokens: number; temperature: number }): Promise<void> {
  const panel = page.getByRole('region', { name: 'Compare', exact: true });
  const summary = panel.locator('summary', { hasText: /^Sampling for both sides/ });
  if ((await summary.locator('xpath=..').getAttribute('open')) === null) await summary.click();
  await panel.getByRole('spinbutton', { name: 'Max new tokens', exact: true }).fill(String(s.maxNewTokens));
  await panel.getByRole('spinbutton', { name: 'Temperature', exact: true }).fill(String(s.temperature));
  await summary.filter({ hasText: `up to ${s.maxNewTokens} new tokens` }).waitFor();
}

/** Imports files through the adapter screen; resolves with the error text, or null when imported. */
export async function importAdapter(
  page: Page,
  files: { name: string; buffer: Buffer }[],
  timeout = 60_000,
): Promise<string | null> {
  const before = Number(await page.getByTestId('adapter-import').getAttribute('data-imports'));
  await page.getByLabel(/^Import adapter files/).setInputFiles(files.map((f) => ({ ...f, mimeType: 'application/octet-stream' })));
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="adapter-import"]')?.getAttribute('data-imports')) > n, before, {
    timeout,
    polling: 100,
  });
  const bad = page.getByTestId('adapter-import-error');
  if (await bad.isVisible()) return bad.innerText();
  return null;
}

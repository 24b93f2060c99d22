// End to end: preference tuning in the built site, in Debian's Chromium with WebGPU (SwiftShader here),
// used as a person would. Upload a preference file (tests/fixtures/preferences.jsonl: a right and a
// wrong short answer per prompt) and see a pair side by side with the prompt masked; the objective
// becomes DPO; run a short DPO LoRA run and watch rewards/margins and rewards/accuracies beside the
// loss; find the DPO adapter in the adapter list and compare it with the base; then continue that
// adapter in a new run, whose reference it is (the first validation loss is ln 2, no reward yet).
// Screenshots of the pair preview and the charts go to docs/screenshots/, numbers to test-results/.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { waitForModel } from './browser.ts';
import { adapterNames, compare, measureGeneralText, setSampling, setTraining, trainStatus, uploadDataset, waitForEngine, waitForRunEnd } from './helpers-train.ts';
import { usePlaygroundPage } from './playground-page.ts';
import { ROOT } from './site.ts';

const PREFS = readFileSync(resolve(ROOT, 'tests/fixtures/preferences.jsonl'), 'utf8');
/** Short enough for SwiftShader; at lr 5e-3 LoRA separates the training pairs within a few steps. */
const SETTINGS = { lr: 0.005, steps: 16, batch: 4, seqLen: 16, warmup: 2, evalEvery: 4 };
const ADAPTER = 'LoRA r8 DPO · preferences.jsonl';
const SCREENSHOTS = resolve(ROOT, 'docs/screenshots');
const metrics: Record<string, unknown> = {};

/** A chart's last training and validation values (data-* on the figure). */
async function chartValues(page: Page, metric: string) {
  const chart = page.locator(`[data-testid="metric-chart"][data-metric="${metric}"]`);
  return {
    points: Number(await chart.getAttribute('data-points')),
    train: Number(await chart.getAttribute('data-train-last')),
    validation: Number(await chart.getAttribute('data-validation-last')),
  };
}

let page: Page;
usePlaygroundPage({ results: 'e2e-dpo-metrics.json', metrics }, (p) => (page = p));

describe('preference tuning (DPO) in the page', () => {
  it('reads a preference file as a dataset for DPO and previews a pair side by side, the prompt masked', async () => {
    expect(await waitForModel(page)).toBe('webgpu');
    await waitForEngine(page);
    await uploadDataset(page, 'preferences.jsonl', PREFS);
    expect(await page.getByTestId('dataset-format').first().textContent()).toBe('Preference pairs (DPO)');
    expect(await page.getByRole('radio', { name: /^DPO/ }).isChecked()).toBe(true);
    expect(await page.getByTestId('preference-objective').textContent()).toContain('DPO (sigmoid, β 0.1)');
    const preview = page.getByTestId('pair-preview');
    await preview.waitFor();
    const prompt = (await preview.getByTestId('pair-prompt').textContent()) ?? '';
    expect(prompt.length).toBeGreaterThan(0);
    for (const side of ['chosen', 'rejected']) {
      const box = preview.getByTestId(`pair-${side}`);
      const summary = (await box.getByTestId('token-summary').textContent()) ?? '';
      const [, total, counted] = summary.match(/([\d,]+) tokens, ([\d,]+) counted/) ?? [];
      // Every answer has tokens the loss counts, and the prompt's are never among them.
      expect(Number(counted)).toBeGreaterThan(0);
      expect(Number(counted)).toBeLessThan(Number(total));
      const marked = (await box.locator('mark.tok').allTextContents()).join('').replace(/·/g, ' ');
      expect(prompt.includes(marked.trim())).toBe(false);
    }
    await page.locator('section.dataset').screenshot({ path: resolve(SCREENSHOTS, 'dpo-pair-preview.png') });
  });

  it('runs a short DPO LoRA run and charts rewards/margins and rewards/accuracies beside the loss', async () => {
    await setTraining(page, SETTINGS);
    expect(await page.getByTestId('train-plan').innerText()).toContain('DPO (sigmoid, β 0.1)');
    await measureGeneralText(page, false);
    await page.getByRole('button', { name: 'Start training' }).click();
    expect(await waitForRunEnd(page), await trainStatus(page)).toBe('finished');
    const margins = await chartValues(page, 'rewards/margins');
    const accuracies = await chartValues(page, 'rewards/accuracies');
    metrics.run = { settings: SETTINGS, margins, accuracies, valLoss: await page.getByTestId('train-val-loss').getAttribute('data-last') };
    expect(margins.points).toBe(SETTINGS.steps);
    expect(accuracies.points).toBe(SETTINGS.steps);
    for (const v of [margins.train, margins.validation, accuracies.train, accuracies.validation]) expect(Number.isFinite(v)).toBe(true);
    expect(accuracies.train).toBeGreaterThanOrEqual(0);
    expect(accuracies.train).toBeLessThanOrEqual(1);
    // The chosen answers of the training batch now get the higher reward on average.
    expect(margins.train).toBeGreaterThan(0);
    // Before training the policy is its reference: the first validation point is ln 2.
    expect(Number(await page.getByTestId('train-val-loss').getAttribute('data-first'))).toBeCloseTo(Math.LN2, 5);
    const summary = (await page.getByTestId('preference-summary').textContent()) ?? '';
    expect(summary).toMatch(/rewards\/margins -?\d+\.\d{4} on the last training batch, -?\d+\.\d{4} on the validation pairs/);
    expect(summary).toContain('rewards/accuracies');
    await page.getByRole('heading', { name: 'Train', exact: true }).locator('xpath=..').screenshot({ path: resolve(SCREENSHOTS, 'dpo-charts.png') });
  });

  it('keeps the DPO adapter in the list, and Compare shows base against it', async () => {
    await expect.poll(() => adapterNames(page), { timeout: 60_000 }).toContain(ADAPTER);
    await setSampling(page, { maxNewTokens: 4, temperature: 0 });
    const out = await compare(page, { left: 'Base model (WebGPU engine, no adapter)', right: `${ADAPTER} (adapter)`, text: 'The capital of France is' });
    metrics.compare = { left: out.left, right: out.right };
    expect(out.leftIds.length).toBeGreaterThan(0);
    expect(out.rightIds.length).toBeGreaterThan(0);
  });

  it('continues the DPO adapter in a new run, which starts at it: no reward at step 0', async () => {
    const start = page.getByRole('combobox', { name: 'Start from' });
    const option = start.locator('option', { hasText: `Continue ${ADAPTER}` });
    await start.selectOption({ value: (await option.getAttribute('value')) ?? '' });
    await page.getByTestId('plan-status').filter({ hasText: `continuing ${ADAPTER}` }).waitFor({ timeout: 60_000 });
    // The method is the adapter's, locked while it is the starting point.
    expect(await page.getByRole('radio', { name: /^LoRA/ }).isDisabled()).toBe(true);
    await page.getByRole('spinbutton', { name: 'Steps', exact: true }).fill('2');
    await page.getByRole('spinbutton', { name: 'Evaluate every', exact: true }).fill('2');
    await page.getByTestId('plan-status').filter({ hasText: '2 steps' }).waitFor();
    expect(await page.getByTestId('train-plan').innerText()).toContain(`continues ${ADAPTER}`);
    await page.getByRole('button', { name: 'Start training' }).click();
    expect(await waitForRunEnd(page), await trainStatus(page)).toBe('finished');
    // The reference is the adapter as it was: before the first step the policy equals it, so ln 2.
    const first = Number(await page.getByTestId('train-val-loss').getAttribute('data-first'));
    metrics.continued = { firstValLoss: first };
    expect(first).toBeCloseTo(Math.LN2, 5);
    await expect.poll(() => adapterNames(page), { timeout: 60_000 }).toContain(`${ADAPTER} (2)`);
  });
});

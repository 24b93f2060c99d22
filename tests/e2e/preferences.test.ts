// End to end: the human in the loop. Compare the base with an (imported, random) adapter, give the
// verdict by keyboard, see the pair in the Preferences table; a tie counts in the win rate; sample and
// pick keeps its pairs; the table swaps; after a reload the pairs are still there; the export is TRL
// JSONL that the page's own dataset loader reads back as the same pairs; "Use for DPO" loads them as
// the dataset. Screenshots: docs/screenshots/compare-verdict.png and preference-table.png.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StaticServer } from '../../scripts/static-server.mjs';
import { loadDatasetFiles } from '../../src/lib/data/load.ts';
import { openPage, waitForModel, type Browser } from './browser.ts';
import { compare, importAdapter, setSampling, waitForEngine } from './helpers-train.ts';
import { randomLoraZip } from './random-adapter.ts';
import { ROOT, startSite } from './site.ts';

const ONNX_BASE = 'Base model (onnxruntime-web, fp32)';
/** How a kept pair names that side's generator (verdicts.ts generatorLabel: the runtime, not the dtype). */
const ONNX_GENERATOR = 'Base model (onnxruntime-web)';
const TUNED = 'Random tune';
const TEXT = 'Question: What is the sea?\nAnswer:';
const SHOTS = resolve(ROOT, 'docs/screenshots');

let site: StaticServer;
let browser: Browser;
let page: Page;

/** The pairs as the table shows them. */
async function tableRows(p: Page): Promise<{ chosen: string; rejected: string }[]> {
  const rows = p.getByTestId('preference-row');
  const out: { chosen: string; rejected: string }[] = [];
  for (let i = 0; i < (await rows.count()); i++) {
    const row = rows.nth(i);
    out.push({ chosen: await row.getByTestId('preference-chosen').inputValue(), rejected: await row.getByTestId('preference-rejected').inputValue() });
  }
  return out;
}

const waitForRows = (p: Page, n: number) =>
  p.waitForFunction((k) => Number(document.querySelector('[data-testid="preference-count"]')?.getAttribute('data-pairs')) === k, n, { timeout: 60_000, polling: 100 });

beforeAll(async () => {
  site = await startSite('/playground/');
  ({ browser, page } = await openPage({ webgpu: true }, site.url));
  await waitForModel(page);
  await waitForEngine(page);
  // Larger weights than a trained adapter's first steps: its greedy text differs from the base's.
  expect(await importAdapter(page, [{ name: 'tune.zip', buffer: randomLoraZip(TUNED, 11, 1.5) }])).toBeNull();
  await setSampling(page, { maxNewTokens: 8, temperature: 0 });
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
});

describe('verdicts become preference pairs, kept across a reload, exported as TRL JSONL', () => {
  let first: { left: string; right: string };

  it('a verdict given by keyboard after a comparison is a pair in the table: the preferred side chosen', async () => {
    first = await compare(page, { left: ONNX_BASE, right: `${TUNED} (adapter)`, text: TEXT });
    expect(first.left).not.toBe(first.right);
    const verdict = page.getByTestId('compare-verdict');
    await expect(verdict.innerText()).resolves.toMatch(/Keys: 1 left is better, 2 right is better, 3 tie, 4 both bad/);
    await page.keyboard.press('2');
    await page.getByTestId('compare-verdict-outcome').waitFor();
    expect(await page.getByTestId('compare-verdict-outcome').innerText()).toBe(
      `Right is better: kept as a preference pair (chosen: ${TUNED} (adapter); rejected: ${ONNX_GENERATOR}).`,
    );
    expect(await verdict.getAttribute('data-given')).toBe('right');
    await waitForRows(page, 1);
    expect(await tableRows(page)).toEqual([{ chosen: first.right, rejected: first.left }]);
    // A second key on the same comparison changes nothing.
    await page.keyboard.press('1');
    expect(await verdict.getAttribute('data-given')).toBe('right');
    await page.getByRole('region', { name: 'Compare', exact: true }).screenshot({ path: resolve(SHOTS, 'compare-verdict.png') });
  });

  it('a tie is a judgment, not a pair, and the win rate counts both verdicts', async () => {
    await compare(page, { left: `${TUNED} (adapter)`, right: ONNX_BASE, text: TEXT });
    await page.keyboard.press('3');
    await page.getByTestId('compare-verdict-outcome').filter({ hasText: /^Tie: kept as a judgment/ }).waitFor();
    const count = page.getByTestId('preference-count');
    expect(await count.getAttribute('data-pairs')).toBe('1');
    expect(await count.getAttribute('data-judgments')).toBe('2');
    const row = page.getByTestId('win-rate-row');
    expect([await row.getAttribute('data-won'), await row.getAttribute('data-lost'), await row.getAttribute('data-tie'), await row.getAttribute('data-both-bad')]).toEqual(['1', '0', '1', '0']);
    expect(await row.innerText()).toMatch(new RegExp(`^${TUNED}\\s+1 \\(50%\\)\\s+0 \\(0%\\)\\s+1 \\(50%\\)\\s+0 \\(0%\\)\\s+2 over 1 prompt$`));
  });

  it('sample and pick draws K samples with the seed varied; the best against every other sample become pairs', async () => {
    await setSampling(page, { maxNewTokens: 8, temperature: 1 });
    const panel = page.getByRole('region', { name: 'Preferences' });
    await panel.getByRole('combobox', { name: 'Model to sample' }).selectOption({ label: `${TUNED} (adapter)` });
    await panel.getByRole('spinbutton', { name: 'Samples (K)' }).fill('3');
    await panel.getByRole('textbox', { name: 'Prompt to sample' }).fill(TEXT);
    await panel.getByRole('button', { name: 'Draw 3 samples' }).click();
    await panel.getByRole('radio', { name: 'Best' }).first().waitFor({ timeout: 300_000 });
    const texts = await Promise.all([0, 1, 2].map((i) => page.getByTestId(`sample-${i}-text`).textContent()));
    const seeds = await panel.locator('.sample .who').allInnerTexts();
    expect(seeds).toEqual(['Sample 1 · seed 42', 'Sample 2 · seed 43', 'Sample 3 · seed 44']);
    await panel.getByRole('radio', { name: 'Best' }).nth(1).check();
    const others = texts.filter((t, i) => i !== 1 && t !== texts[1] && t!.trim() !== '');
    await panel.getByRole('button', { name: /^Keep \d+ pairs?$/ }).click();
    if (others.length > 0) {
      await page.getByTestId('samples-kept').filter({ hasText: `Kept ${others.length} pair` }).waitFor();
      await waitForRows(page, 1 + others.length);
      expect((await tableRows(page)).slice(1)).toEqual(others.map((rejected) => ({ chosen: texts[1], rejected })));
    } else {
      await page.getByTestId('samples-kept').filter({ hasText: 'No pair' }).waitFor();
    }
  });

  it('swaps a pair, and after a reload the pairs are still there', async () => {
    const before = await tableRows(page);
    await page.getByRole('button', { name: 'Swap chosen and rejected of pair 1' }).click();
    await page.waitForFunction((c) => (document.querySelector('[data-testid="preference-chosen"]') as HTMLTextAreaElement | null)?.value === c, before[0].rejected);
    const swapped = [{ chosen: before[0].rejected, rejected: before[0].chosen }, ...before.slice(1)];
    expect(await tableRows(page)).toEqual(swapped);
    await page.getByRole('region', { name: 'Preferences' }).screenshot({ path: resolve(SHOTS, 'preference-table.png') });
    await page.reload();
    await waitForRows(page, swapped.length);
    expect(await tableRows(page)).toEqual(swapped);
    expect(await page.getByTestId('preference-count').getAttribute('data-judgments')).toBe('2');
  });

  it('exports TRL JSONL that the page’s dataset loader reads back as the same pairs, and loads them as the dataset', async () => {
    const rows = await tableRows(page);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSONL' }).click()]);
    expect(download.suggestedFilename()).toBe('preferences.jsonl');
    const bytes = readFileSync((await download.path())!);
    const lines = new TextDecoder().decode(bytes).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual(rows.map((r) => ({ prompt: TEXT, chosen: r.chosen, rejected: r.rejected })));
    const loaded = await loadDatasetFiles([{ name: 'preferences.jsonl', bytes: new Uint8Array(bytes) }]);
    expect(loaded.train?.format).toBe('preference');
    expect(loaded.train?.badRecords).toBe(0);
    expect(loaded.train?.examples.length).toBe(rows.length);

    await page.getByRole('button', { name: 'Use for DPO' }).click();
    await page.getByTestId('preference-notice').filter({ hasText: `Loaded ${rows.length} pair` }).waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('dataset-format').first().innerText()).toBe('Preference pairs (DPO)');
  });
});

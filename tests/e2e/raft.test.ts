// End to end: the RLHF loop in the built site, in Debian's Chromium with WebGPU (SwiftShader here).
// Upload the preference file (tests/fixtures/preferences.jsonl), pick the "Reward model" objective and
// train a short LoRA reward model: its loss and pairwise accuracy (rewards/accuracies) are charted; the
// score box rates an answer with it. Then one tiny RAFT round with a rule reward on a prompts file: the
// rounds table and the kept samples with their rewards appear, and the policy is saved as an adapter.
// Last, one round with "My ranking" as the reward: the panel shows the samples, waits for the picks
// and trains on them; the page is reloaded while round 1 waits, and the run continues from round 1.
// Screenshots go to docs/screenshots/ (reward-model.png, raft-rounds.png, raft-ranking.png), numbers to
// test-results/.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { waitForModel } from './browser.ts';
import { adapterNames, measureGeneralText, setTraining, trainStatus, uploadDataset, waitForEngine, waitForRunEnd } from './helpers-train.ts';
import { usePlaygroundPage } from './playground-page.ts';
import { ROOT } from './site.ts';

const PREFS = readFileSync(resolve(ROOT, 'tests/fixtures/preferences.jsonl'), 'utf8');
const PROMPTS = readFileSync(resolve(ROOT, 'tests/fixtures/raft-prompts.txt'));
/** A few steps: enough to see the curves move on SwiftShader. */
const SETTINGS = { lr: 0.005, steps: 8, batch: 4, seqLen: 16, warmup: 2, evalEvery: 4 };
const SCREENSHOTS = resolve(ROOT, 'docs/screenshots');
const metrics: Record<string, unknown> = {};

let page: Page;
usePlaygroundPage({ results: 'e2e-raft.json', metrics }, (p) => (page = p));

const raftPanel = () => page.getByRole('heading', { name: 'RAFT: reward-ranked fine-tuning' }).locator('xpath=..');

describe('the RLHF loop in the page', () => {
  it('trains a reward model on preference pairs, charts its loss and pairwise accuracy, and scores an answer with it', async () => {
    expect(await waitForModel(page)).toBe('webgpu');
    await waitForEngine(page);
    await uploadDataset(page, 'preferences.jsonl', PREFS);
    await page.getByRole('radio', { name: /^Reward model/ }).check();
    await setTraining(page, SETTINGS);
    expect(await page.getByTestId('train-plan').innerText()).toContain('a reward model');
    await measureGeneralText(page, false);
    await page.getByRole('button', { name: 'Start training' }).click();
    expect(await waitForRunEnd(page), await trainStatus(page)).toBe('finished');
    const chart = page.locator('[data-testid="metric-chart"][data-metric="rewards/accuracies"]');
    const accuracy = Number(await chart.getAttribute('data-validation-last'));
    metrics.rewardModel = { settings: SETTINGS, validationAccuracy: accuracy, trainAccuracy: Number(await chart.getAttribute('data-train-last')) };
    expect(Number(await chart.getAttribute('data-points'))).toBe(SETTINGS.steps);
    expect(accuracy).toBeGreaterThanOrEqual(0);
    expect(accuracy).toBeLessThanOrEqual(1);
    await page.getByRole('heading', { name: 'Train', exact: true }).locator('xpath=..').screenshot({ path: resolve(SCREENSHOTS, 'reward-model.png') });

    // The saved adapter carries the score head, so the score box offers it.
    const panel = raftPanel();
    await panel.getByRole('combobox', { name: 'Reward model' }).locator('option').first().waitFor({ state: 'attached', timeout: 60_000 });
    await panel.getByRole('textbox', { name: 'Prompt' }).fill('The jury said that the');
    await panel.getByRole('textbox', { name: 'Answer' }).fill(' election was fair.');
    await panel.getByRole('button', { name: 'Score' }).click();
    const out = panel.getByTestId('score-result');
    await out.waitFor({ timeout: 300_000 });
    metrics.score = Number(await out.getAttribute('data-reward'));
    expect(Number.isFinite(metrics.score)).toBe(true);
  });

  it('runs a tiny RAFT round with a rule reward: rewards per round, the kept samples, a saved policy', async () => {
    const panel = raftPanel();
    await panel.getByLabel('Prompts file').setInputFiles({ name: 'raft-prompts.txt', mimeType: 'text/plain', buffer: PROMPTS });
    await panel.getByTestId('raft-prompt-count').filter({ hasText: '2 prompts' }).waitFor();
    await panel.getByRole('textbox', { name: 'Rule reward' }).fill('contains: the');
    const field = (label: string) => panel.getByRole('spinbutton', { name: label, exact: true });
    await field('K (answers per prompt)').fill('2');
    await field('Answer length (tokens)').fill('4');
    await field('SFT steps per round').fill('2');
    await field('Rounds').fill('1');
    await panel.getByRole('button', { name: 'Start RAFT' }).click();
    await page.waitForFunction(
      () => ['finished', 'error', 'stopped'].includes(document.querySelector('[data-testid="raft-stage"]')?.getAttribute('data-phase') ?? ''),
      undefined,
      { timeout: 900_000, polling: 250 },
    );
    const stage = panel.getByTestId('raft-stage');
    expect(await stage.getAttribute('data-phase'), await panel.innerText()).toBe('finished');
    const rows = panel.getByTestId('raft-rounds').locator('tbody tr');
    expect(await rows.count()).toBe(2); // round 0 (the base) and the pass after round 1
    const means = await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-mean'))));
    metrics.raftMeans = means;
    for (const m of means) expect(m >= 0 && m <= 1).toBe(true);
    // Every kept sample's reward is the rule's on its answer.
    const kept = await panel.getByTestId('raft-kept').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => ({ answer: tr.children[2].textContent ?? '', reward: Number(tr.getAttribute('data-reward')) })));
    expect(kept.length).toBe(1); // the top quarter of 4 samples
    for (const k of kept) expect(k.reward).toBe(k.answer.includes(' the') ? 1 : 0);
    await expect.poll(() => adapterNames(page), { timeout: 60_000 }).toContainEqual(expect.stringMatching(/^RAFT /));
    await panel.screenshot({ path: resolve(SCREENSHOTS, 'raft-rounds.png') });
  });

  it('waits for the user’s ranking of a round’s samples, uses the picks as the rewards, and continues the run after a reload', async () => {
    // one round on the same prompts file, K 2, 4 tokens, 2 SFT steps, keeping each prompt's best: the picks
    const panel = raftPanel();
    await panel.getByRole('radio', { name: 'My ranking' }).check();
    await panel.getByRole('combobox', { name: 'Keep' }).selectOption('best');
    await panel.getByRole('spinbutton', { name: 'Rounds', exact: true }).fill('1');
    await panel.getByRole('button', { name: 'Start RAFT' }).click();
    const ranking = panel.getByTestId('raft-ranking');
    await ranking.waitFor({ timeout: 600_000 });
    const use = ranking.getByRole('button', { name: 'Use my ranking' });
    expect(await use.isDisabled()).toBe(true); // nothing picked yet
    const groups = ranking.locator('fieldset');
    expect(await groups.count()).toBe(2);
    expect(await groups.nth(0).getByRole('radio').count()).toBe(2);
    // prompt 1: the second answer is the best; prompt 2: the first
    const picked = [await groups.nth(0).locator('.text').nth(1).innerText(), await groups.nth(1).locator('.text').nth(0).innerText()];
    await groups.nth(0).getByRole('radio').nth(1).check();
    await groups.nth(1).getByRole('radio').nth(0).check();
    await panel.screenshot({ path: resolve(SCREENSHOTS, 'raft-ranking.png') });
    await use.click();
    // round 0 trains on the picks; round 1 (the last pass) samples and waits: reload the page then
    await panel.getByRole('heading', { name: 'Round 1: pick the best answer for each prompt' }).waitFor({ timeout: 600_000 });
    const rows = () => raftPanel().getByTestId('raft-rounds').locator('tbody tr');
    // one pick of two per prompt: rewards 1 and 0 each, mean 0.5, max 1; the kept samples are the picks
    expect(Number(await rows().first().getAttribute('data-mean'))).toBe(0.5);
    expect(Number(await rows().first().getAttribute('data-max'))).toBe(1);
    const keptAnswers = () => raftPanel().getByTestId('raft-kept').locator('tbody tr td.answer').allInnerTexts();
    expect((await keptAnswers()).map((a) => a.trim())).toEqual(picked.map((a) => a.trim()));

    await page.reload();
    await waitForModel(page);
    await waitForEngine(page);
    const stage = raftPanel().getByTestId('raft-stage');
    await stage.filter({ hasText: 'stopped after round 0' }).waitFor({ timeout: 60_000 });
    expect(await rows().count()).toBe(1);
    expect((await keptAnswers()).map((a) => a.trim())).toEqual(picked.map((a) => a.trim()));
    await raftPanel().getByRole('button', { name: 'Continue from round 1' }).click();
    const again = raftPanel().getByTestId('raft-ranking');
    await again.getByRole('heading', { name: 'Round 1: pick the best answer for each prompt' }).waitFor({ timeout: 600_000 });
    await again.locator('fieldset').nth(0).getByRole('radio').nth(0).check();
    await again.locator('fieldset').nth(1).getByRole('radio').nth(0).check();
    await again.getByRole('button', { name: 'Use my ranking' }).click();
    await page.waitForFunction(
      () => ['finished', 'error', 'stopped'].includes(document.querySelector('[data-testid="raft-stage"]')?.getAttribute('data-phase') ?? ''),
      undefined,
      { timeout: 600_000, polling: 250 },
    );
    expect(await stage.getAttribute('data-phase'), await raftPanel().innerText()).toBe('finished');
    expect(await rows().count()).toBe(2);
    expect(Number(await rows().nth(1).getAttribute('data-mean'))).toBe(0.5);
  });
});

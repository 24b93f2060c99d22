// End to end: the stages before PEFT on the built site (Chromium, WebGPU on SwiftShader). A short
// LoRA run on the page with forgetting measured reports "task loss … (was …) · general text ppl …
// (was …)" and appears in the Forgetting view; the New model panel trains a 512-token byte-level BPE on
// the Brown slice in the worker (its own progress bar), pretrains the smallest preset with it for a
// handful of steps (live loss, greedy samples), keeps it in IndexedDB and downloads it as a Hugging Face
// folder in a .zip that carries the trained tokenizer; then the made model becomes the base model ("Use
// as base model"): transformers.js reads its tokenizer from IndexedDB, it has no ONNX, so the engine
// generates its base, a short LoRA run trains on it, and the compare view runs the engine's base
// against the adapter and says so. Screenshots:
// docs/screenshots/forgetting.png, new-model.png and made-base.png.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StaticServer } from '../../scripts/static-server.mjs';
import { generate, openPage, waitForModel, type Browser } from './browser.ts';
import { compare, measureGeneralText, pirateDataset, setTraining, trainStatus, uploadDataset, waitForEngine, waitForRunEnd } from './helpers-train.ts';
import { ROOT, startSite } from './site.ts';
import { readZip } from '../../src/lib/peft/zip.ts';

const SHOTS = resolve(ROOT, 'docs/screenshots');
let site: StaticServer;
let downloads: string;

beforeAll(async () => {
  site = await startSite('/playground/');
  downloads = mkdtempSync(join(tmpdir(), 'lora-playground-new-model-'));
});
afterAll(async () => {
  await site?.close();
  rmSync(downloads, { recursive: true, force: true });
});

describe('new model and forgetting', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ({ browser, page } = await openPage({ webgpu: true }, site.url));
  });
  afterAll(() => browser?.close());

  it('a run that measures the general text says what it learnt and forgot, and the Forgetting view lists it', { timeout: 1_200_000 }, async () => {
    expect(await waitForModel(page)).toBe('webgpu');
    await waitForEngine(page);
    const forgetting = page.getByTestId('forgetting');
    await forgetting.getByRole('checkbox', { name: /Measure the general text/ }).check();
    await uploadDataset(page, 'pirate.jsonl', pirateDataset(8));
    await setTraining(page, { lr: 0.01, steps: 4, batch: 4, seqLen: 32, warmup: 0, evalEvery: 2 });
    await page.getByRole('button', { name: 'Start training' }).click();
    expect(await waitForRunEnd(page), await trainStatus(page)).toBe('finished');
    const line = await page.getByTestId('train-forgetting').innerText();
    expect(line).toMatch(/^task loss \d+\.\d{3} \(was \d+\.\d{3}\) · general text ppl \d+\.\d \(was \d+\.\d\)$/);
    const row = forgetting.getByTestId('forgetting-row');
    await row.first().waitFor({ timeout: 60_000 });
    expect(await row.count()).toBe(1);
    expect(await row.getAttribute('data-method')).toMatch(/^LoRA r 8/);
    const before = Number(await row.getAttribute('data-ppl-before'));
    const after = Number(await row.getAttribute('data-ppl-after'));
    // The shipped model on Brown text it never saw: far better than a uniform guess over 4,096 tokens.
    expect(before).toBeGreaterThan(1);
    expect(before).toBeLessThan(4096);
    expect(line).toContain(`general text ppl ${after.toFixed(1)} (was ${before.toFixed(1)})`);
    console.log(`forgetting (LoRA, 4 steps): ${line}`);
    await forgetting.screenshot({ path: resolve(SHOTS, 'forgetting.png') });
  });

  it('trains a byte-level BPE and pretrains the smallest preset with it in the worker, shows loss and samples, keeps it and downloads its folder', { timeout: 1_200_000 }, async () => {
    const panel = page.getByTestId('new-model');
    await panel.getByRole('combobox', { name: 'Preset' }).selectOption('0.1m');
    const field = (label: string) => panel.getByRole('spinbutton', { name: label, exact: true });
    await panel.getByTestId('new-model-tokenizer-bpe').check();
    await field('Vocabulary size').fill('512');
    await field('Pretraining steps').fill('4');
    await field('Rows per step').fill('4');
    await field('Row length').fill('32');
    await field('Validate every').fill('2');
    await field('Sample every').fill('2');
    await panel.getByRole('textbox', { name: 'Model name' }).fill('Tiny Brown');
    await panel.getByRole('button', { name: 'Pretrain', exact: true }).click();
    const stats = panel.getByTestId('new-model-stats');
    await page.waitForFunction(
      () => ['finished', 'stopped', 'diverged', 'device-lost', 'error'].includes(document.querySelector('[data-testid="new-model-stats"]')?.getAttribute('data-phase') ?? ''),
      undefined,
      { timeout: 1_100_000, polling: 250 },
    );
    expect(await stats.getAttribute('data-phase'), await panel.innerText()).toBe('finished');
    expect(await panel.getByRole('progressbar', { name: 'Training the tokenizer' }).getAttribute('aria-valuenow')).toBe('100');
    const loss = panel.getByTestId('new-model-loss');
    const first = Number(await loss.getAttribute('data-first'));
    // A fresh initialisation predicts nearly uniformly over the trained 512 tokens: its first loss is near ln 512 (not ln 4096).
    expect(Math.abs(first - Math.log(512))).toBeLessThan(0.5);
    const samples = panel.getByTestId('new-model-samples').locator('li');
    expect(await samples.count()).toBe(2); // steps 2 and 4
    expect(await samples.first().innerText()).toMatch(/^step 2 The/);
    expect(await panel.getByTestId('new-model-message').innerText()).toContain('Kept as “Tiny Brown” in this browser.');
    const item = panel.getByTestId('made-model').filter({ hasText: 'Tiny Brown' });
    await item.waitFor();

    const download = page.waitForEvent('download');
    await item.getByRole('button', { name: 'Download .zip' }).click();
    const d = await download;
    expect(d.suggestedFilename()).toBe('Tiny-Brown.zip');
    const path = join(downloads, d.suggestedFilename());
    await d.saveAs(path);
    const files = new Map((await readZip(new Uint8Array(readFileSync(path)))).map((e) => [e.name, e.data]));
    expect([...files.keys()].sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json'].map((n) => `Tiny-Brown/${n}`));
    const json = (name: string) => JSON.parse(new TextDecoder().decode(files.get(`Tiny-Brown/${name}`)));
    expect(json('config.json')).toMatchObject({ vocab_size: 512 });
    expect(Object.keys(json('tokenizer.json').model.vocab)).toHaveLength(512);
    expect(json('tokenizer.json').model.merges).toHaveLength(512 - 259);
    await panel.screenshot({ path: resolve(SHOTS, 'new-model.png') });
  });

  it('uses the made model as the base model: the engine generates its base, trains an adapter on it and compares them', { timeout: 900_000 }, async () => {
    const panel = page.getByTestId('new-model');
    const item = panel.getByTestId('made-model').filter({ hasText: 'Tiny Brown' });
    await item.getByRole('button', { name: 'Use as base model' }).click();
    await page.getByTestId('loaded-model').filter({ hasText: 'Tiny Brown' }).waitFor({ timeout: 120_000 });
    const id = (await page.getByRole('combobox', { name: 'Model', exact: true }).inputValue()).replace(/^browser:/, '');
    await page.getByTestId('train-engine-status').filter({ hasText: id }).waitFor({ timeout: 120_000 });
    await waitForEngine(page);
    expect(await item.getByRole('button', { name: 'Base model now' }).isDisabled()).toBe(true);
    // The loaded model cannot be deleted from under the engine.
    await item.getByRole('button', { name: 'Delete Tiny Brown' }).click();
    expect(await panel.getByTestId('made-models-error').innerText()).toBe('Tiny Brown is the loaded base model: load another model before deleting it');

    // Base generation: no ONNX, so the engine (no adapter) generates; the made model's trained tokenizer decodes.
    const base = await generate(page, 'The history of the city', { maxNewTokens: 6, temperature: 0 });
    expect(base.ids.length).toBeGreaterThan(0);
    expect(base.ids.every((id) => id < 512)).toBe(true);

    // A short LoRA run on the made model (the pirate data from the first test, tokenized again for it).
    await measureGeneralText(page, false);
    await setTraining(page, { lr: 0.01, steps: 2, batch: 4, seqLen: 32, warmup: 0, evalEvery: 2 });
    await page.getByRole('button', { name: 'Start training' }).click();
    expect(await waitForRunEnd(page), await trainStatus(page)).toBe('finished');

    // The compare view: the engine's base on the left by default, no onnxruntime-web choice, and the reason on screen.
    const comparePanel = page.getByRole('region', { name: 'Compare', exact: true });
    const left = comparePanel.getByRole('combobox', { name: 'Left side' });
    expect(await left.locator('option:checked').innerText()).toBe('Base model (WebGPU engine, no adapter)');
    expect(await left.locator('option').allInnerTexts()).not.toContain('Base model (onnxruntime-web, fp32)');
    expect(await comparePanel.getByTestId('compare-no-onnx').innerText()).toBe('No ONNX for this model: the base side runs on the engine (WebGPU, no adapter).');
    await comparePanel.getByTestId('parity-unavailable').waitFor();
    const right = await comparePanel.getByRole('combobox', { name: 'Right side' }).locator('option:checked').innerText();
    expect(right).toMatch(/\(adapter\)$/);
    const out = await compare(page, { left: 'Base model (WebGPU engine, no adapter)', right, text: 'The history of the city' });
    // The engine's base with greedy sampling gives what the Generate panel gave: the same engine, no adapter.
    expect(out.leftIds).toEqual(base.ids);
    expect(out.rightIds.length).toBeGreaterThan(0);
    await comparePanel.screenshot({ path: resolve(SHOTS, 'made-base.png') });
  });
});

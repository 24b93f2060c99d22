// End to end: the worker survives a GPU failure in any engine request. The page is opened with
// ?debug-gpu-fault=…, which arms one fault per point in the worker (lib/worker/session.ts strike): a
// GPU validation error while an adapter's weights are imported, a lost device during the engine's
// generation, a validation error while held-out loss is measured, a lost device during the logits
// check. Each request that meets its fault must fail with a message naming what failed and what to
// do; the same request pressed again must work (a lost device is replaced by a new one), and the
// base model's Generate still answers at the end.

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StaticServer } from '../../scripts/static-server.mjs';
import { generate, openPage, waitForModel, type Browser } from './browser.ts';
import { compare, importAdapter, pirateDataset, setSampling, uploadDataset, waitForEngine } from './helpers-train.ts';
import { randomLoraZip } from './random-adapter.ts';
import { screenshot, startSite } from './site.ts';

const FAULTS = 'import:validation,generate:lose-device,evaluate:validation,parity:lose-device';
const ONNX_BASE = 'Base model (onnxruntime-web, fp32)';
const PROBE = 'Fault probe';
const TEXT = 'Question: What is the sea?\nAnswer:';

/** A small LoRA adapter with seeded random weights, named PROBE. */
const probeAdapter = () => randomLoraZip(PROBE);

/** Presses a Compare-panel button and waits for its result or its error. */
async function press(page: Page, button: RegExp | string, result: string, error: RegExp, timeout = 300_000): Promise<string | null> {
  await page.getByRole('button', { name: button }).click();
  const failure = page.getByRole('alert').filter({ hasText: error });
  await page.getByTestId(result).or(failure).first().waitFor({ timeout });
  return (await failure.isVisible()) ? failure.innerText() : null;
}

let site: StaticServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  site = await startSite('/playground/');
  ({ browser, page } = await openPage({ webgpu: true }, `${site.url}?debug-gpu-fault=${FAULTS}`));
  await waitForModel(page);
  await waitForEngine(page);
  expect(await importAdapter(page, [{ name: 'probe.zip', buffer: probeAdapter() }])).toBeNull();
  await uploadDataset(page, 'pirate.jsonl', pirateDataset(12));
  await setSampling(page, { maxNewTokens: 6, temperature: 0 });
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
});

describe('a GPU failure in an engine request: a named message, and the page goes on', () => {
  it('importing an adapter’s weights: a validation error, then the same comparison works', async () => {
    const sides = { left: ONNX_BASE, right: `${PROBE} (adapter)`, text: TEXT };
    await expect(compare(page, sides)).rejects.toThrow(
      /^Comparison failed: Importing the adapter's weights to the GPU failed on the GPU: injected GPU fault \(debug\): .+\. The engine is still loaded: try again\.$/,
    );
    await screenshot(page, 'gpu-fault-import');
    // The next comparison imports the weights again; its generation then loses the device.
    await expect(compare(page, sides)).rejects.toThrow(
      /^Comparison failed: The right side's generation stopped: The GPU device was destroyed.* A new GPU device starts with the next request: try again\.$/,
    );
    await screenshot(page, 'gpu-fault-generate');
    // A new device, the adapter imported onto it, and both sides stream.
    const out = await compare(page, sides);
    expect(out.leftIds.length).toBeGreaterThan(0);
    expect(out.rightIds.length).toBeGreaterThan(0);
  });

  it('measuring held-out loss: a validation error, then the measurement', async () => {
    const error = await press(page, /^Measure held-out loss/, 'compare-eval', /Measuring failed/);
    expect(error).toMatch(/^Measuring failed: Measuring the held-out loss failed on the GPU: injected GPU fault \(debug\): .+\. The engine is still loaded: try again\.$/);
    expect(await press(page, /^Measure held-out loss/, 'compare-eval', /Measuring failed/)).toBeNull();
    expect(Number(await page.getByTestId('compare-eval-right').getAttribute('data-loss'))).toBeGreaterThan(0);
  });

  it('the logits check: a lost device, then the check passes on a new one', async () => {
    const button = 'Check engine against onnxruntime-web';
    const error = await press(page, button, 'compare-parity', /The check failed/);
    expect(error).toMatch(/^The check failed: The logits check stopped: The GPU device was destroyed.* A new GPU device starts with the next request: try again\.$/);
    expect(await press(page, button, 'compare-parity', /The check failed/)).toBeNull();
    expect(await page.getByTestId('compare-parity').getAttribute('data-pass')).toBe('true');
  });

  it('the base model still generates', async () => {
    const out = await generate(page, TEXT, { maxNewTokens: 4, temperature: 0 });
    expect(out.ids.length).toBe(4);
    await screenshot(page, 'gpu-fault-after');
  });
});

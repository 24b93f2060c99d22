// End to end: the BUILT site (dist/, or E2E_SITE), served under a path prefix by a plain static server,
// driven in Debian's Chromium. The shipped model must load on WebGPU (this test fails on a machine without
// a WebGPU adapter: the WASM fallback is not good enough for it), greedy output must equal PyTorch's, and
// no request may leave the app's origin. Screenshots and measured tokens/s go to test-results/.
//
// Requests are checked where the page and its workers make them (Playwright's page-level request events
// include dedicated workers). Besides, all of the browser's traffic goes through a recording proxy that
// forwards only to the test servers: nothing the page asks for can reach the internet, whatever the
// checks miss. (Chromium's own background services — component updates, sign-in — also knock on the
// proxy; they are refused, logged to test-results/e2e-proxy.log, and not the app's requests.)

import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StaticServer } from '../../scripts/static-server.mjs';
import { generate, generatePanel, openPage, readGeneration, untilGenerated, waitForModel, type Browser } from './browser.ts';
import { startHubServer, type HubServer } from './hub-server.ts';
import { startRecordingProxy, type RecordingProxy } from './proxy.ts';
import { narrowOverflow, offOrigin, RESULTS, ROOT, screenshot, startSite } from './site.ts';

interface GreedyCase {
  prompt: string;
  input_ids: number[];
  output_ids: number[];
  text: string;
}

const greedy: GreedyCase[] = JSON.parse(readFileSync(resolve(ROOT, 'tests/fixtures/greedy.json'), 'utf8'));
const PREFIX = '/some/deploy/prefix/';
const metrics: Record<string, unknown> = {};

function greedySampling(c: GreedyCase) {
  return { maxNewTokens: c.output_ids.length, temperature: 0 };
}

let site: StaticServer;
/** Every browser below sends all its traffic through this proxy, which refuses other origins. */
let proxy: RecordingProxy;
beforeAll(async () => {
  site = await startSite(PREFIX);
  proxy = await startRecordingProxy();
  proxy.allow(site.origin);
});
afterAll(async () => {
  writeFileSync(resolve(RESULTS, 'e2e-metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
  if (proxy) writeFileSync(resolve(RESULTS, 'e2e-proxy.log'), proxy.requests.map((r) => (proxy.refused.includes(r) ? `REFUSED ${r}` : r)).join('\n') + '\n');
  await site?.close();
  await proxy?.close();
});

describe('the built site in Chromium with WebGPU', () => {
  let browser: Browser;
  let page: Page;

  let from = 0;

  beforeAll(async () => {
    from = proxy.requests.length;
    ({ browser, page } = await openPage({ webgpu: true, proxy: proxy.address }, site.url));
  });
  afterAll(() => browser?.close());

  it('loads the shipped model on WebGPU and says so', async () => {
    const backend = await waitForModel(page);
    expect(backend, `the page reports backend "${backend}"; a WebGPU adapter is required\n${browser.errors.join('\n')}`).toBe('webgpu');
    await expect.poll(() => page.getByLabel(/^Backend: /).innerText()).toContain('WebGPU');
    expect(await page.getByRole('alert').filter({ hasText: /WebGPU is not available|Could not load/ }).count()).toBe(0);
    // The WebGPU adapter is called the GPU, apart from the LoRA adapters listed under it.
    const facts = page.getByLabel('Loaded model');
    expect(await facts.getByRole('term').allInnerTexts()).toContain('GPU');
    expect(await facts.getByRole('term').allInnerTexts()).not.toContain('Adapter');
    expect((await page.getByTestId('model-gpu').innerText()).length).toBeGreaterThan(0);
  });

  it("greedy continuation of the fixture prompt equals PyTorch's", async () => {
    // SwiftShader's WebGPU is a CPU emulation and slow: one 32-token prompt here, the rest on WASM below.
    const c = greedy[0];
    const out = await generate(page, c.prompt, greedySampling(c));
    expect(out.ids).toEqual(c.output_ids);
    expect(out.text).toBe(c.text);
    expect(await page.getByTestId('prompt-ids').textContent()).toBe(c.input_ids.join(' '));
    metrics.webgpu_tokens_per_second = out.tokensPerSecond;
    await screenshot(page, 'app-webgpu');
    // `UPDATE_SCREENSHOTS=1 npm test` refreshes the README's screenshot (what a 1280×800 window shows).
    if (process.env.UPDATE_SCREENSHOTS) {
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: resolve(ROOT, 'docs/screenshot.png') });
    }
  });

  it('lays out on a narrow screen without sideways scrolling', async () => {
    expect(await narrowOverflow(page, 'app-narrow')).toBe(0);
  });

  it('made every request to its own origin, workers and wasm included', () => {
    // The worker's requests are among those seen: the model and onnxruntime's wasm.
    for (const seen of [browser.requests, proxy.requests.slice(from)]) {
      expect(seen).toContain(`${site.url}models/brown-llama-4m/onnx/model.onnx`);
      expect(seen.some((url) => /\/assets\/ort-wasm-simd-threaded\.asyncify-[\w-]+\.wasm$/.test(url))).toBe(true);
    }
    expect(offOrigin(browser.requests, [site.origin])).toEqual([]);
  });
});

describe('the built site on the WebAssembly backend', () => {
  let browser: Browser;
  let page: Page;
  let hub: HubServer | undefined;

  beforeAll(async () => {
    ({ browser, page } = await openPage({ webgpu: true, proxy: proxy.address }));
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  it('runs on WASM when the URL asks for it, with the same greedy text', async () => {
    await page.goto(`${site.url}?backend=wasm`);
    expect(await waitForModel(page)).toBe('wasm');
    await expect.poll(() => page.getByLabel(/^Backend: /).innerText()).toContain('WebAssembly');
    for (const [i, c] of greedy.entries()) {
      const out = await generate(page, c.prompt, greedySampling(c));
      expect(out.ids).toEqual(c.output_ids);
      expect(out.text).toBe(c.text);
      metrics[`wasm_tokens_per_second_${i}`] = out.tokensPerSecond;
    }
    await screenshot(page, 'app-wasm');
  });

  it('samples the same text for the same seed, and another text for another seed', async () => {
    const sampling = { maxNewTokens: 8, temperature: 1, topK: 0, topP: 1 };
    const a = await generate(page, greedy[0].prompt, { ...sampling, seed: 11 });
    const b = await generate(page, greedy[0].prompt, { ...sampling, seed: 11 });
    const c = await generate(page, greedy[0].prompt, { ...sampling, seed: 12 });
    expect(b.ids).toEqual(a.ids);
    expect(b.text).toBe(a.text);
    expect(c.ids).not.toEqual(a.ids);
  });

  it('stays responsive while generating: Stop ends a long generation between two tokens', async () => {
    const panel = generatePanel(page);
    await panel.getByRole('textbox', { name: 'Prompt', exact: true }).fill(greedy[1].prompt);
    await panel.getByRole('spinbutton', { name: 'Max new tokens', exact: true }).fill('400');
    await panel.getByRole('spinbutton', { name: 'Temperature', exact: true }).fill('0');
    await untilGenerated(page, async () => {
      await page.getByRole('button', { name: 'Generate', exact: true }).click();
      await expect.poll(() => page.getByTestId('generation-stats').innerText(), { timeout: 300_000 }).toMatch(/^(?:[2-9]|\d{2,}) tokens/);
      await page.getByRole('button', { name: 'Stop', exact: true }).click();
    });
    await expect.poll(() => page.getByTestId('generation-stats').innerText()).toContain('stop: stopped');
    const { ids } = await readGeneration(page);
    expect(ids.length).toBeGreaterThan(1);
    expect(ids.length).toBeLessThan(400);
  });

  it('can be used from the keyboard: Ctrl+Enter in the prompt generates', async () => {
    const prompt = generatePanel(page).getByRole('textbox', { name: 'Prompt', exact: true });
    await prompt.fill(greedy[0].prompt);
    await generatePanel(page).getByRole('spinbutton', { name: 'Max new tokens', exact: true }).fill('4');
    await untilGenerated(page, async () => {
      await prompt.focus();
      await page.keyboard.press('Control+Enter');
    });
    expect((await readGeneration(page)).ids).toHaveLength(4);
  });

  it('loads a model from a Hugging Face–style hub (a local stand-in) through the hub loader', async () => {
    hub = await startHubServer('test-org/brown-llama-4m', resolve(ROOT, 'models/brown-llama-4m'));
    proxy.allow(hub.url.replace(/\/$/, ''));
    const since = browser.requests.length;
    await page.goto(`${site.url}?model=test-org/brown-llama-4m&backend=wasm&hub=${encodeURIComponent(hub.url)}`);
    expect(await waitForModel(page)).toBe('wasm');
    const c = greedy[1];
    const out = await generate(page, c.prompt, greedySampling(c));
    expect(out.ids).toEqual(c.output_ids);
    expect(hub.requests).toContain('GET /test-org/brown-llama-4m/resolve/main/onnx/model.onnx');
    // The model came from the hub, not from the app's own copy.
    expect(browser.requests.slice(since).some((url) => url.startsWith(`${site.url}models/`))).toBe(false);
  });

  it('says what it tried and why it failed for a repo that is not on the hub (?model=does/not-exist)', async () => {
    await page.goto(`${site.url}?model=does/not-exist&backend=wasm&hub=${encodeURIComponent(hub!.url)}`);
    const error = page.getByRole('alert').filter({ hasText: 'Could not load the model' });
    await error.waitFor({ timeout: 120_000 });
    expect(await error.innerText()).toBe(
      `Could not load the model: does/not-exist was not found on ${hub!.url} (${hub!.url}does/not-exist/resolve/main/config.json answered 404 Not Found). ` +
        "Check the repo id: owner/name, as on the model's page, such as HuggingFaceTB/SmolLM2-135M-Instruct.",
    );
    // config.json told it (asked by the worker and by the page's tokenizer): transformers.js was not asked for the model.
    expect([...new Set(hub!.requests.filter((r) => r.includes('does/not-exist')))]).toEqual(['GET /does/not-exist/resolve/main/config.json']);
    await screenshot(page, 'app-model-not-found');
  });

  it('made no request outside the app and the hub it was pointed at', () => {
    expect(offOrigin(browser.requests, [site.origin, hub!.url.replace(/\/$/, '')])).toEqual([]);
  });
});

describe('the built site in a browser without a WebGPU adapter', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ({ browser, page } = await openPage({ webgpu: false, proxy: proxy.address }, site.url));
  });
  afterAll(() => browser?.close());

  it('says plainly that WebGPU is missing and falls back to WASM, with the same greedy text', async () => {
    expect(await waitForModel(page)).toBe('wasm');
    await expect(page.getByRole('alert').filter({ hasText: 'WebGPU is not available' }).innerText()).resolves.toMatch(
      /runs on WebAssembly/,
    );
    const c = greedy[0];
    const out = await generate(page, c.prompt, greedySampling(c));
    expect(out.ids).toEqual(c.output_ids);
    await screenshot(page, 'app-no-webgpu');
    expect(offOrigin(browser.requests, [site.origin])).toEqual([]);
  });

  it('refuses a forced WebGPU backend with a reason', async () => {
    await page.goto(`${site.url}?backend=webgpu`);
    await expect(waitForModel(page)).rejects.toThrow(/WebGPU was requested but is not available/);
  });
});

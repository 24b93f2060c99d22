// End to end: the BUILT site (dist/), served under a path prefix by a plain static server, driven in
// Debian's Chromium. The shipped model must load on WebGPU (this test fails on a machine without a
// WebGPU adapter: the WASM fallback is not good enough for it), greedy output must equal PyTorch's, and no
// request may leave the app's origin. Screenshots and measured tokens/s go to test-results/.

import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, launch, waitForModel, type Browser } from './browser.ts';
import { startHubServer, type HubServer } from './hub-server.ts';
import { startRecordingProxy, type RecordingProxy } from './proxy.ts';
import { startStaticServer, type StaticServer } from './static-server.ts';

interface GreedyCase {
  prompt: string;
  input_ids: number[];
  output_ids: number[];
  text: string;
}

const ROOT = resolve(import.meta.dirname, '../..');
const RESULTS = resolve(ROOT, 'test-results');
const greedy: GreedyCase[] = JSON.parse(readFileSync(resolve(ROOT, 'tests/fixtures/greedy.json'), 'utf8'));
const PREFIX = '/some/deploy/prefix/';
const metrics: Record<string, unknown> = {};
mkdirSync(RESULTS, { recursive: true });

/** Requests that left `origins` (data: and blob: URLs are local by nature). */
function offOrigin(requests: string[], origins: string[]): string[] {
  return requests.filter(
    (url) => !url.startsWith('data:') && !origins.some((o) => url.startsWith(o + '/') || url.startsWith(`blob:${o}/`)),
  );
}

async function screenshot(page: Page, name: string): Promise<void> {
  const file = resolve(RESULTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  // `UPDATE_SCREENSHOTS=1 npm test` refreshes the README's screenshot from this run.
  if (process.env.UPDATE_SCREENSHOTS && name === 'app-webgpu') copyFileSync(file, resolve(ROOT, 'docs/screenshot.png'));
}

function greedySampling(c: GreedyCase) {
  return { maxNewTokens: c.output_ids.length, temperature: 0 };
}

let site: StaticServer;
/** Every browser below sends all its traffic through this proxy, which refuses other origins. */
let proxy: RecordingProxy;
beforeAll(async () => {
  site = await startStaticServer(resolve(ROOT, 'dist'), PREFIX);
  proxy = await startRecordingProxy();
  proxy.allow(site.origin);
});
afterAll(async () => {
  writeFileSync(resolve(RESULTS, 'e2e-metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
  await site?.close();
  await proxy?.close();
});

describe('the built site in Chromium with WebGPU', () => {
  let browser: Browser;
  let page: Page;

  let from = 0;

  beforeAll(async () => {
    from = proxy.requests.length;
    browser = await launch({ webgpu: true, proxy: proxy.address });
    page = await browser.context.newPage();
    await page.goto(site.url);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('loads the shipped model on WebGPU and says so', async () => {
    const backend = await waitForModel(page);
    expect(backend, `the page reports backend "${backend}"; a WebGPU adapter is required\n${browser.errors.join('\n')}`).toBe('webgpu');
    await expect.poll(() => page.getByLabel(/^Backend: /).innerText()).toContain('WebGPU');
    expect(await page.getByRole('alert').count()).toBe(0); // no fallback notice, no error
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
  });

  it('lays out on a narrow screen without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    await screenshot(page, 'app-narrow');
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(overflow).toBe(0);
  });

  it('made every request to its own origin, workers and wasm included', () => {
    const seen = proxy.requests.slice(from);
    // The worker's requests went through the proxy too: the model and onnxruntime's wasm.
    expect(seen).toContain(`${site.url}models/brown-llama-4m/onnx/model.onnx`);
    expect(seen.some((url) => /\/assets\/ort-wasm-simd-threaded\.asyncify-[\w-]+\.wasm$/.test(url))).toBe(true);
    expect(offOrigin(seen, [site.origin])).toEqual([]);
    expect(offOrigin(browser.requests, [site.origin])).toEqual([]);
  });
});

describe('the built site on the WebAssembly backend', () => {
  let browser: Browser;
  let page: Page;
  let hub: HubServer | undefined;
  let from = 0;

  beforeAll(async () => {
    from = proxy.requests.length;
    browser = await launch({ webgpu: true, proxy: proxy.address });
    page = await browser.context.newPage();
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
    await page.getByRole('textbox', { name: 'Prompt' }).fill(greedy[1].prompt);
    await page.getByRole('spinbutton', { name: 'Max new tokens' }).fill('400');
    await page.getByRole('spinbutton', { name: 'Temperature' }).fill('0');
    const output = page.getByRole('region', { name: 'Output' });
    const before = Number(await output.getAttribute('data-completed'));
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect.poll(() => page.getByTestId('generation-stats').innerText(), { timeout: 300_000 }).toMatch(/^(?:[2-9]|\d{2,}) tokens/);
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.waitForFunction((n) => Number(document.querySelector('[data-completed]')?.getAttribute('data-completed')) > n, before);
    await expect.poll(() => page.getByTestId('generation-stats').innerText()).toContain('stop: stopped');
    const ids = ((await page.getByTestId('generated-ids').textContent()) ?? '').split(' ').filter(Boolean);
    expect(ids.length).toBeGreaterThan(1);
    expect(ids.length).toBeLessThan(400);
  });

  it('can be used from the keyboard: Ctrl+Enter in the prompt generates', async () => {
    const prompt = page.getByRole('textbox', { name: 'Prompt' });
    await prompt.fill(greedy[0].prompt);
    await page.getByRole('spinbutton', { name: 'Max new tokens' }).fill('4');
    const before = Number(await page.getByRole('region', { name: 'Output' }).getAttribute('data-completed'));
    await prompt.focus();
    await page.keyboard.press('Control+Enter');
    await page.waitForFunction((n) => Number(document.querySelector('[data-completed]')?.getAttribute('data-completed')) > n, before);
    expect(((await page.getByTestId('generated-ids').textContent()) ?? '').split(' ')).toHaveLength(4);
  });

  it('loads a model from a Hugging Face–style hub (a local stand-in) through the hub loader', async () => {
    hub = await startHubServer('test-org/brown-llama-4m', resolve(ROOT, 'models/brown-llama-4m'));
    const hubOrigin = hub.url.replace(/\/$/, '');
    proxy.allow(hubOrigin);
    const since = proxy.requests.length;
    await page.goto(`${site.url}?model=test-org/brown-llama-4m&backend=wasm&hub=${encodeURIComponent(hub.url)}`);
    expect(await waitForModel(page)).toBe('wasm');
    const c = greedy[1];
    const out = await generate(page, c.prompt, greedySampling(c));
    expect(out.ids).toEqual(c.output_ids);
    expect(hub.requests).toContain('GET /test-org/brown-llama-4m/resolve/main/onnx/model.onnx');
    // The model came from the hub, not from the app's own copy.
    expect(proxy.requests.slice(since).some((url) => url.startsWith(`${site.url}models/`))).toBe(false);
  });

  it('made no request outside the app and the hub it was pointed at', () => {
    expect(offOrigin(proxy.requests.slice(from), [site.origin, hub!.url.replace(/\/$/, '')])).toEqual([]);
  });
});

describe('the built site in a browser without a WebGPU adapter', () => {
  let browser: Browser;
  let page: Page;

  let from = 0;

  beforeAll(async () => {
    from = proxy.requests.length;
    browser = await launch({ webgpu: false, proxy: proxy.address });
    page = await browser.context.newPage();
    await page.goto(site.url);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('says plainly that WebGPU is missing and falls back to WASM, with the same greedy text', async () => {
    expect(await waitForModel(page)).toBe('wasm');
    await expect(page.getByRole('alert').filter({ hasText: 'WebGPU is not available' }).innerText()).resolves.toMatch(
      /runs on WebAssembly/,
    );
    const c = greedy[0];
    const out = await generate(page, c.prompt, greedySampling(c));
    expect(out.ids).toEqual(c.output_ids);
    await screenshot(page, 'app-no-webgpu');
    expect(offOrigin(proxy.requests.slice(from), [site.origin])).toEqual([]);
  });

  it('refuses a forced WebGPU backend with a reason', async () => {
    await page.goto(`${site.url}?backend=webgpu`);
    await expect(waitForModel(page)).rejects.toThrow(/WebGPU was requested but is not available/);
  });
});

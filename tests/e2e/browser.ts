// The browser the end-to-end tests drive (Debian's Chromium, scripts/chromium.mjs), recording what its
// pages request and report, and helpers that use the page the way a person does: controls found by
// role and name.

import type { BrowserContext, Locator, Page } from 'playwright-core';
import { launchChromium } from '../../scripts/chromium.mjs';

export interface Browser {
  context: BrowserContext;
  /** Every URL the pages of this browser and their workers requested, in order, as Playwright saw them. */
  requests: string[];
  /** Console errors and uncaught page errors, for failure messages. */
  errors: string[];
  close(): Promise<void>;
}

/**
 * Launches headless Chromium (scripts/chromium.mjs) in a 1280×800 window, records what its pages
 * request and report, and opens a page, at `url` when one is given. Without `webgpu`, Linux Chromium
 * offers no adapter, which is how the fallback path is tested. With `proxy` (host:port) every request,
 * loopback included, goes through that proxy.
 */
export async function openPage({ webgpu, proxy }: { webgpu: boolean; proxy?: string }, url?: string): Promise<{ browser: Browser; page: Page }> {
  const { context, close } = await launchChromium({ webgpu, proxy, viewport: { width: 1280, height: 800 } });
  const requests: string[] = [];
  const errors: string[] = [];
  // Page-level request events include the page's dedicated workers (context-level ones do not).
  const watchPage = (page: Page) => {
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  };
  context.on('page', watchPage);
  for (const page of context.pages()) watchPage(page);
  try {
    const page = await context.newPage();
    if (url) await page.goto(url);
    return { browser: { context, requests, errors, close }, page };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Waits until the page has loaded a model (or failed to) and returns the backend it reports. */
export async function waitForModel(page: Page, timeout = 300_000): Promise<string> {
  const backend = page.getByTestId('backend');
  const failure = page.getByText(/Could not load the model/);
  await backend.or(failure).first().waitFor({ timeout });
  if (await failure.isVisible()) throw new Error(await failure.innerText());
  return (await backend.getAttribute('data-backend')) ?? '';
}

export interface SamplingInput {
  maxNewTokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  seed?: number;
}

export interface Generation {
  text: string;
  ids: number[];
  tokensPerSecond: number;
}

/** The Generate panel (the Compare panel has sampling controls of its own, bound to the same settings). */
export function generatePanel(page: Page): Locator {
  return page.getByRole('region', { name: 'Generate', exact: true });
}

/** Fills the prompt and sampling controls, presses Generate and waits for the finished output. */
export async function generate(page: Page, prompt: string, sampling: SamplingInput, timeout = 600_000): Promise<Generation> {
  const panel = generatePanel(page);
  await panel.getByRole('textbox', { name: 'Prompt', exact: true }).fill(prompt);
  await panel.getByRole('spinbutton', { name: 'Max new tokens', exact: true }).fill(String(sampling.maxNewTokens));
  await panel.getByRole('spinbutton', { name: 'Temperature', exact: true }).fill(String(sampling.temperature));
  if (sampling.topK !== undefined) await panel.getByRole('spinbutton', { name: 'Top-k', exact: true }).fill(String(sampling.topK));
  if (sampling.topP !== undefined) await panel.getByRole('spinbutton', { name: 'Top-p', exact: true }).fill(String(sampling.topP));
  if (sampling.seed !== undefined) await panel.getByRole('spinbutton', { name: 'Seed', exact: true }).fill(String(sampling.seed));
  return pressGenerate(page, timeout);
}

/** Presses Generate and waits for this generation to finish. */
async function pressGenerate(page: Page, timeout = 600_000): Promise<Generation> {
  await untilGenerated(page, () => page.getByRole('button', { name: 'Generate', exact: true }).click(), timeout);
  const failure = page.getByText(/Generation failed/);
  if (await failure.isVisible()) throw new Error(await failure.innerText());
  return readGeneration(page);
}

/** Does `start` (whatever starts a generation, and stops it if it likes), then waits until that generation has ended. */
export async function untilGenerated(page: Page, start: () => Promise<void>, timeout = 600_000): Promise<void> {
  const output = page.getByRole('region', { name: 'Output', exact: true });
  const before = Number(await output.getAttribute('data-completed'));
  await start();
  await page.waitForFunction(
    (n) => Number(document.querySelector('[data-completed]')?.getAttribute('data-completed')) > n,
    before,
    { timeout, polling: 250 },
  );
}

/** The output of the last generation. */
export async function readGeneration(page: Page): Promise<Generation> {
  const text = (await page.getByTestId('generated').textContent()) ?? '';
  const ids = ((await page.getByTestId('generated-ids').textContent()) ?? '').split(' ').filter(Boolean).map(Number);
  const tokensPerSecond = Number(await page.getByTestId('generation-stats').getAttribute('data-tokens-per-second'));
  return { text, ids, tokensPerSecond };
}

// The page a whole e2e file works in: the built site served at /playground/ and one Chromium tab on it
// with WebGPU, opened before the file's tests and closed after them, when the file's measurements are
// written to test-results/<results>.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { StaticServer } from '../../scripts/static-server.mjs';
import { openPage, type Browser } from './browser.ts';
import { RESULTS, startSite } from './site.ts';

export function usePlaygroundPage(o: { results: string; metrics: Record<string, unknown> }, opened: (page: Page) => void): void {
  let site: StaticServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    site = await startSite('/playground/');
    const tab = await openPage({ webgpu: true }, site.url);
    browser = tab.browser;
    opened(tab.page);
  });
  afterAll(async () => {
    writeFileSync(resolve(RESULTS, o.results), JSON.stringify(o.metrics, null, 2) + '\n');
    await browser?.close();
    await site?.close();
  });
}

// The built site the end-to-end tests run, served under a path prefix like any static host would
// serve it (the prefix checks that the site works wherever it is deployed: vite base './'), and where
// the tests leave screenshots and measurements.

import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { startStaticServer, type StaticServer } from '../../scripts/static-server.mjs';

export const ROOT = resolve(import.meta.dirname, '../..');
/** Screenshots, metrics and logs of the end-to-end tests. */
export const RESULTS = resolve(ROOT, 'test-results');
/** The built site; E2E_SITE names a build of its own, so a concurrent `npm run build` cannot change it mid-run. */
const SITE = resolve(ROOT, process.env.E2E_SITE ?? 'dist');
mkdirSync(RESULTS, { recursive: true });

/** Serves the built site at `prefix` on loopback, with the cross-origin isolation headers. */
export async function startSite(prefix: string): Promise<StaticServer> {
  if (!existsSync(join(SITE, 'index.html'))) {
    throw new Error(`${SITE}/index.html is missing: build the site first (npm run build)`);
  }
  return startStaticServer({ [prefix]: SITE });
}

/** Saves a full-page screenshot as test-results/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: resolve(RESULTS, `${name}.png`), fullPage: true });
}

/**
 * Shows the page on a 390×844 phone screen, saves a screenshot as `name`, and returns how far the page
 * scrolls sideways there (0 when it fits); the window is 1280×800 again afterwards.
 */
export async function narrowOverflow(page: Page, name: string): Promise<number> {
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await screenshot(page, name);
  await page.setViewportSize({ width: 1280, height: 800 });
  return overflow;
}

/** Requests that left `origins` (data: URLs, and blob: URLs of those origins, are local by nature). */
export function offOrigin(requests: string[], origins: string[]): string[] {
  return requests.filter(
    (url) => !url.startsWith('data:') && !origins.some((o) => url.startsWith(o + '/') || url.startsWith(`blob:${o}/`)),
  );
}

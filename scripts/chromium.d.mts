// Types of chromium.mjs, for the TypeScript tests that import it.
import type { BrowserContext } from 'playwright-core';

export const CHROMIUM: string;

export interface Chromium {
  context: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

export function launchChromium(options: {
  webgpu: boolean;
  /** host:port of an HTTP proxy for all traffic, loopback included. */
  proxy?: string;
  /** Window size; Playwright's default (1280×720) when left out. */
  viewport?: { width: number; height: number };
}): Promise<Chromium>;

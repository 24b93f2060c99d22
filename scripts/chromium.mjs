// Debian's headless Chromium, driven by playwright-core (never a downloaded browser), for the benchmark
// and the end-to-end tests. CHROMIUM_PATH overrides /usr/bin/chromium. Types: chromium.d.mts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that keep Chromium quiet and offline. */
const QUIET = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--disable-default-apps',
];

/**
 * Launches headless Chromium with a fresh profile, removed again by `close()`. With `webgpu` it gets
 * --enable-unsafe-webgpu, which Linux Chromium needs to offer an adapter (on a machine without a GPU,
 * its SwiftShader then provides one). With `proxy` (host:port) every request, loopback included, goes
 * through that proxy.
 */
export async function launchChromium({ webgpu, proxy, viewport }) {
  const profile = mkdtempSync(join(tmpdir(), 'lora-playground-chromium-'));
  const args = [...QUIET];
  if (webgpu) args.push('--enable-unsafe-webgpu');
  if (proxy) args.push(`--proxy-server=http://${proxy}`, '--proxy-bypass-list=<-loopback>');
  try {
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args, viewport });
    return {
      context,
      close: async () => {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
}

// docs/screenshots/picker-sizes.png and refused-memory.png: the model panel of the built site (npm run
// build first) with SmolLM2-360M-Instruct picked at the method panel's default batch and length, then
// Qwen3-0.6B at batch 16 × 512 tokens, where the run is refused before download (with the settings that
// would fit; the model itself still loads). Only the shipped model (which the page
// loads on open) is loaded and nothing is downloaded: the picker states what it knows from the catalog. Headless Debian Chromium (WebGPU on
// SwiftShader, so the page's adapter limits are SwiftShader's), 1280×800.
import { resolve } from 'node:path';
import { launchChromium } from './chromium.mjs';
import { startStaticServer } from './static-server.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = resolve(ROOT, 'docs/screenshots');
const site = await startStaticServer({ '/app/': resolve(ROOT, 'dist') });
const browser = await launchChromium({ webgpu: true, viewport: { width: 1280, height: 800 } });
try {
  const page = await browser.context.newPage();
  await page.goto(site.url);
  const panel = page.locator('section[aria-labelledby="model-heading"]');
  // the page loads the shipped model on open; the picker is fixed until it has
  await page.getByLabel('Loaded model').waitFor({ timeout: 120_000 });
  const picker = panel.getByRole('combobox', { name: 'Model', exact: true });
  await picker.selectOption('HuggingFaceTB/SmolLM2-360M-Instruct');
  await panel.getByTestId('model-memory').waitFor();
  await panel.screenshot({ path: resolve(OUT, 'picker-sizes.png') });
  console.log(await panel.getByTestId('model-memory').innerText());
  await picker.selectOption('Qwen/Qwen3-0.6B');
  const method = page.locator('section[aria-labelledby="method-heading"]');
  await method.getByRole('spinbutton', { name: 'Batch size' }).fill('16');
  await method.getByRole('spinbutton', { name: 'Max sequence length' }).fill('512');
  await method.getByRole('spinbutton', { name: 'Max sequence length' }).blur();
  await panel.getByTestId('model-run-refused').waitFor();
  await panel.screenshot({ path: resolve(OUT, 'refused-memory.png') });
  console.log(await panel.getByTestId('model-memory').innerText());
  console.log(await panel.getByTestId('model-run-refused').innerText());
} finally {
  await browser.close();
  await site.close();
}

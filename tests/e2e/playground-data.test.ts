// End to end: the dataset and method screens of the BUILT site (npm run build first) in Debian's
// Chromium. A built-in sample is previewed (count, histogram, per-token loss view) and becomes a plan;
// a malformed .jsonl has each problem named with its line and can be skipped; preference data is
// recognised and refused for training; the plan exports for TRL and Accelerate as a .zip; a train/valid
// pair is split by name; a file over the limit is refused with the limit named; a large file shows
// progress and can be cancelled while the page keeps answering; the screens fit a narrow phone.
// Screenshots go to test-results/playground-*.png.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StaticServer } from '../../scripts/static-server.mjs';
import { parseModelConfig } from '../../src/lib/model/config.ts';
import { readZip } from '../../src/lib/peft/zip.ts';
import { defaultMethod } from '../../src/lib/train/config.ts';
import { trainableParamCount } from '../../src/lib/train/memory.ts';
import { openPage, type Browser } from './browser.ts';
import { narrowOverflow, offOrigin, ROOT, screenshot, startSite } from './site.ts';

const config = parseModelConfig(readFileSync(resolve(ROOT, 'models/brown-llama-4m/config.json'), 'utf8'));
const pirateLines = readFileSync(resolve(ROOT, 'static/samples/pirate-qa.jsonl'), 'utf8').split('\n').filter((l) => l.trim());

const chat = (user: string, assistant: string) =>
  JSON.stringify({ messages: [{ role: 'user', content: user }, { role: 'assistant', content: assistant }] });

/** Three good chats and three bad lines: broken JSON (line 2), a number as content (line 3), role "bot" (line 4). */
const MALFORMED = [
  chat('Hello there', 'Hi! I am glad you came.'),
  '{"messages": [{"role": "user", "content": "unfinished"',
  JSON.stringify({ messages: [{ role: 'user', content: 5 }, { role: 'assistant', content: 'Five.' }] }),
  JSON.stringify({ messages: [{ role: 'bot', content: 'Beep.' }, { role: 'assistant', content: 'Boop.' }] }),
  chat('What is the sky?', 'The sky is the air above us.'),
  chat('Name a colour', 'Blue is a fine colour.'),
].join('\n');

/** Polls long enough for a page that shares two CPU cores with the model loading in its worker. */
const poll = <T>(fn: () => Promise<T> | T, { timeout = 60_000 } = {}) => expect.poll(fn, { timeout, interval: 250 });

let site: StaticServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  site = await startSite('/playground/');
  // WASM runs the base model here; the dataset screens need only its tokenizer, loaded in the page.
  ({ browser, page } = await openPage({ webgpu: false }, `${site.url}?backend=wasm`));
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
});

/** Drops files on the drop zone as a person dragging them from a file manager would (DataTransfer). */
async function dropFiles(files: { name: string; text?: string; repeat?: number; bytes?: number }[]): Promise<void> {
  await page.getByRole('button', { name: /Drop dataset files here/ }).evaluate((zone, specs) => {
    const dt = new DataTransfer();
    for (const f of specs) {
      const parts: BlobPart[] = f.bytes !== undefined ? [new Uint8Array(f.bytes)] : new Array(f.repeat ?? 1).fill(f.text ?? '');
      dt.items.add(new File(parts, f.name));
    }
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files);
}

describe('the dataset and method screens', () => {
  it('previews a built-in sample in one click: format, count, split, histogram, tokens the loss counts', async () => {
    await page.getByRole('button', { name: 'Pirate Q&A' }).click();
    await poll(() => page.getByTestId('example-count').textContent(), { timeout: 120_000 }).toBe(String(pirateLines.length));
    expect(await page.getByTestId('dataset-format').first().textContent()).toBe('Prompt and completion');
    const held = Math.round(pirateLines.length / 10);
    expect(await page.getByTestId('validation-count').textContent()).toBe(String(held));
    expect(await page.getByTestId('split-note').textContent()).toContain(`${held} of ${pirateLines.length} examples held out`);
    const histogram = page.getByRole('img', { name: /^Histogram of tokens per example/ });
    expect(await histogram.getAttribute('aria-label')).toContain(`${pirateLines.length} examples`);
    expect(await page.getByTestId('no-truncation').isVisible()).toBe(true);

    // The first training example: the question is context, the pirate answer (and the end-of-text
    // token) is what the loss counts.
    const where = (await page.getByTestId('example-where').textContent()) ?? '';
    const line = Number(/pirate-qa\.jsonl, line (\d+) · train/.exec(where)?.[1]);
    expect(line).toBeGreaterThan(0);
    const view = page.getByRole('region', { name: 'Token view' });
    const counted = (await view.getByTestId('tokens').locator('mark').allTextContents()).join('');
    const context = (await view.getByTestId('tokens').locator('span.tok.plain').allTextContents()).join('');
    const first = JSON.parse(pirateLines[line - 1]);
    expect(context.replace(/·/g, ' ').replace(/↵/g, '')).toBe(first.prompt);
    expect(counted.replace(/·/g, ' ')).toBe(`${first.completion}<|endoftext|>`);
    expect(await page.getByText(/the loss counts this token/).isVisible()).toBe(true);

    await page.getByRole('button', { name: 'Next example', exact: true }).click();
    expect(await page.getByRole('spinbutton', { name: 'Example', exact: true }).inputValue()).toBe('2');

    // The data suggests a max sequence length that holds its longest example, and it is set.
    const hint = page.getByText(/longest example: \d+ tokens — \d+ is enough/);
    await poll(() => hint.count()).toBe(1);
    const [, longest, enough] = /longest example: (\d+) tokens — (\d+) is enough/.exec((await hint.textContent()) ?? '')!.map(Number);
    expect(enough).toBeGreaterThanOrEqual(longest - 1);
    expect(enough).toBeLessThan(128);
    await poll(() => page.getByRole('spinbutton', { name: 'Max sequence length' }).inputValue()).toBe(String(enough));
    expect(await page.getByText(/Training rows of \d+/).textContent()).toBe(`Training rows of ${enough}`);
  });

  it('shows the trainable parameters and the memory estimate, and makes a plan with the defaults', async () => {
    const expected = trainableParamCount(defaultMethod('LORA'), config);
    await poll(() => page.getByTestId('trainable-params').textContent()).toContain(expected.toLocaleString('en-US'));
    expect(await page.getByTestId('memory-estimate').textContent()).toMatch(/\d+(\.\d)? MB/);
    await poll(() => page.getByTestId('plan-status').textContent()).toMatch(/^\s*Ready: Pirate Q&A/);
    for (const name of ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']) {
      expect(await page.getByRole('checkbox', { name }).isChecked()).toBe(true);
    }

    // Fewer targets, fewer parameters; a bottleneck adapter shows its own settings.
    await page.getByRole('checkbox', { name: 'gate_proj' }).uncheck();
    await poll(() => page.getByTestId('trainable-params').textContent()).not.toContain(expected.toLocaleString('en-US'));
    await page.getByRole('checkbox', { name: 'gate_proj' }).check();
    await page.getByRole('radio', { name: /Bottleneck adapter/ }).check();
    expect(await page.getByRole('spinbutton', { name: 'Bottleneck size' }).inputValue()).toBe('16');
    expect(await page.getByRole('checkbox', { name: 'After attention' }).isChecked()).toBe(true);
    await page.getByRole('radio', { name: /Prefix tuning/ }).check();
    expect(await page.getByRole('spinbutton', { name: 'Virtual tokens' }).inputValue()).toBe('8');
    await page.getByRole('radio', { name: /^LoRA/ }).check();

    // A sequence length past the model's limit is named, and no plan is made.
    await page.getByRole('spinbutton', { name: 'Max sequence length' }).fill('4096');
    await poll(() => page.getByTestId('plan-status').textContent()).toContain('from 8 to 512');
    await page.getByRole('spinbutton', { name: 'Max sequence length' }).fill('128');
    await poll(() => page.getByTestId('plan-status').textContent()).toMatch(/^\s*Ready/);
    await screenshot(page, 'playground-sample');
  });

  it('exports the plan for TRL and Accelerate: the model TRL trains is asked for, the .zip holds the run, a bottleneck run says what stands in', async () => {
    const panel = page.getByTestId('export-trl');
    await panel.getByText('Train it elsewhere: export for TRL and Accelerate').click();
    await panel.getByRole('button', { name: 'Download .zip for TRL' }).click();
    await poll(() => panel.getByTestId('export-trl-problems').textContent()).toMatch(/name the model TRL should train/);

    const base = 'HuggingFaceTB/SmolLM2-360M-Instruct';
    await panel.getByRole('textbox', { name: 'Model TRL trains (Hub id or folder)' }).fill(base);
    await panel.getByRole('spinbutton', { name: 'GPUs' }).fill('4');
    const exported = async () => {
      const [download] = await Promise.all([page.waitForEvent('download'), panel.getByRole('button', { name: 'Download .zip for TRL' }).click()]);
      const path = await download.path();
      const entries = await readZip(new Uint8Array(readFileSync(path)));
      return { name: download.suggestedFilename(), files: new Map(entries.map((e) => [e.name, new TextDecoder().decode(e.data)])) };
    };
    const lora = await exported();
    expect(lora.name).toBe('LoRA-r8-Pirate-Q-A-trl.zip');
    expect([...lora.files.keys()]).toEqual([
      'README.md', 'sft.yaml', 'data/train.jsonl', 'data/valid.jsonl',
      'accelerate/single_gpu.yaml', 'accelerate/ddp.yaml', 'accelerate/fsdp.yaml', 'accelerate/zero2.yaml', 'playground.json',
    ]);
    const sft = lora.files.get('sft.yaml')!;
    // The method panel lists the ticked projections by name: all seven here.
    const targets = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'].map((t) => `  - ${t}`).join('\n');
    for (const line of [`model_name_or_path: ${base}`, 'use_peft: true', 'lora_r: 8', 'lora_alpha: 16', `lora_target_modules:\n${targets}`, 'max_length: 128', 'completion_only_loss: true']) {
      expect(sft).toContain(`\n${line}\n`);
    }
    const held = Math.round(pirateLines.length / 10);
    const lines = (name: string) => lora.files.get(name)!.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines('data/train.jsonl')).toHaveLength(pirateLines.length - held);
    expect([...lines('data/train.jsonl'), ...lines('data/valid.jsonl')].sort((a, b) => a.prompt.localeCompare(b.prompt))).toEqual(
      pirateLines.map((l) => JSON.parse(l)).sort((a, b) => a.prompt.localeCompare(b.prompt)),
    );
    expect(lora.files.get('accelerate/ddp.yaml')).toContain('\nnum_processes: 4\n');

    await page.getByRole('radio', { name: /Bottleneck adapter/ }).check();
    const bottleneck = await exported();
    expect(bottleneck.files.get('sft.yaml')).toMatch(/\nlora_target_modules:\n  - self_attn\.o_proj\n  - mlp\.down_proj\n/);
    expect(await panel.getByTestId('export-trl-note').first().textContent()).toMatch(/^PEFT has no bottleneck adapter/);
    await page.getByRole('radio', { name: /^LoRA/ }).check();
    await screenshot(page, 'playground-export-trl');
  });

  it('truncation warnings follow the max sequence length', async () => {
    await page.getByRole('spinbutton', { name: 'Max sequence length' }).fill('16');
    await poll(() => page.getByText(/are longer than 16 positions/).isVisible()).toBe(true);
    // The histogram says it in the same unit, the max sequence length's.
    expect(await page.getByRole('img', { name: /^Histogram of tokens per example/ }).getAttribute('aria-label')).toContain('longer than 16 positions');
    expect(await page.getByRole('list', { name: 'Truncated examples' }).getByRole('listitem').first().textContent()).toMatch(
      /pirate-qa\.jsonl, line \d+: truncated/,
    );
    expect(await page.getByRole('region', { name: 'Token view' }).getByTestId('tokens').locator('s').count()).toBeGreaterThan(0);
    await page.getByRole('spinbutton', { name: 'Max sequence length' }).fill('128');
    await poll(() => page.getByTestId('no-truncation').isVisible()).toBe(true);
  });

  it('names every bad line of a malformed file with its reason, and trains on the good ones only when asked', async () => {
    await page.getByLabel('Dataset files').setInputFiles({ name: 'broken.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(MALFORMED) });
    const problems = page.getByRole('list', { name: 'Problems in broken.jsonl' }).getByRole('listitem');
    await poll(() => problems.count()).toBe(3);
    const items = await problems.allTextContents();
    expect(items[0]).toMatch(/^\s*broken\.jsonl, line 2:\s+invalid JSON/);
    expect(items[1]).toMatch(/^\s*broken\.jsonl, line 3, field messages\[0\]\.content:\s+must be a string, found a number/);
    expect(items[2]).toMatch(/^\s*broken\.jsonl, line 4, field messages\[0\]\.role:\s+unknown role "bot"/);
    expect(await page.getByTestId('dataset-format').first().textContent()).toBe('Chat messages');
    await poll(() => page.getByTestId('plan-status').textContent()).toMatch(/Not ready to train: .*3 bad records: skip them or fix the file/);

    await page.getByRole('checkbox', { name: 'Skip the 3 bad lines and train on the 3 good examples' }).check();
    expect(await page.getByTestId('skipped-count').textContent()).toBe('3 lines skipped; training uses 3 good examples.');
    await poll(() => page.getByTestId('example-count').textContent()).toBe('3');
    await poll(() => page.getByTestId('plan-status').textContent()).toMatch(/^\s*Ready: broken\.jsonl/);
    await screenshot(page, 'playground-bad-input');

    // Fixed and dropped again: no problems, no skipping needed.
    const fixed = MALFORMED.split('\n').filter((_, i) => i === 0 || i >= 4).join('\n');
    await page.getByLabel('Dataset files').setInputFiles({ name: 'broken.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(fixed) });
    await poll(() => page.getByRole('list', { name: 'Problems in broken.jsonl' }).count()).toBe(0);
    await poll(() => page.getByTestId('plan-status').textContent()).toMatch(/^\s*Ready: broken\.jsonl/);
  });

  it('reads preference data for DPO, and says plainly that supervised fine-tuning cannot train on it', async () => {
    const dpo = [
      { prompt: 'Say hi', chosen: 'Hi there!', rejected: 'Go away.' },
      { prompt: 'Say bye', chosen: 'Goodbye, friend!', rejected: 'Whatever.' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n');
    await dropFiles([{ name: 'prefs.jsonl', text: dpo }]);
    // Pairs make DPO the objective: the dataset is ready for it, and a pair is previewed side by side.
    await poll(() => page.getByTestId('preference-objective').isVisible()).toBe(true);
    expect(await page.getByTestId('dataset-format').first().textContent()).toBe('Preference pairs (DPO)');
    await poll(() => page.getByTestId('pair-preview').isVisible()).toBe(true);
    expect(await page.getByTestId('preference-note').count()).toBe(0);
    // Picking SFT instead: the note says why it cannot train on pairs, once; the status lines point to it.
    await page.getByRole('radio', { name: /^SFT/ }).check();
    await poll(() => page.getByTestId('preference-note').isVisible()).toBe(true);
    expect(await page.getByTestId('preference-note').textContent()).toContain('Supervised fine-tuning cannot train on it');
    expect(await page.getByTestId('plan-status').textContent()).toContain('Not ready to train');
    await poll(() => page.getByTestId('dataset-status').isVisible()).toBe(true);
    expect((await page.locator('main').innerText()).match(/Supervised fine-tuning cannot train on it/g)).toHaveLength(1);
    for (const id of ['dataset-status', 'plan-status']) expect((await page.getByTestId(id).textContent())?.trim()).toMatch(/[^.]\.$/);
    await page.getByRole('radio', { name: /^DPO/ }).check();
  });

  it('reads an MLX train.jsonl + valid.jsonl pair as training and validation files', async () => {
    const valid = pirateLines.slice(0, 4).join('\n');
    const train = pirateLines.slice(4).join('\n');
    await dropFiles([
      { name: 'valid.jsonl', text: valid },
      { name: 'train.jsonl', text: train },
    ]);
    await poll(() => page.getByTestId('validation-count').textContent()).toBe('4');
    expect(await page.getByTestId('train-count').textContent()).toBe(String(pirateLines.length - 4));
    expect(await page.getByTestId('split-note').textContent()).toContain('Validation from its own file: validation: valid.jsonl (4 examples)');
    await poll(() => page.getByTestId('plan-status').textContent()).toMatch(/^\s*Ready: train\.jsonl \+ valid\.jsonl/);
  });

  it('shows progress while reading a large file, stays responsive, and cancels', async () => {
    // ~40 MB of JSON Lines, built in the page.
    await dropFiles([{ name: 'large.jsonl', text: pirateLines[0] + '\n', repeat: 300_000 }]);
    const bar = page.getByRole('progressbar', { name: 'Reading the dataset' });
    await bar.waitFor({ timeout: 30_000 });
    // The page answers while the file is read: input events run and the bar moves.
    await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 60_000 }).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Cancel reading' }).click();
    await poll(() => page.getByRole('status').filter({ hasText: /was cancelled/ }).count()).toBe(1);
    expect(await bar.count()).toBe(0);
    // The previous dataset is kept.
    expect(await page.getByTestId('dataset-status').textContent()).toContain('Ready to train: train.jsonl + valid.jsonl');
  });

  it('refuses a file over the size limit, naming the limit, and keeps the dataset that was ready', async () => {
    await dropFiles([{ name: 'huge.jsonl', bytes: 51 * 1024 * 1024 }]);
    const problem = page.getByRole('list', { name: 'Problems in huge.jsonl (not loaded)' }).getByRole('listitem');
    await poll(() => problem.textContent()).toContain('over the limit of 50 MB (52,428,800 bytes)');
    expect(await page.getByRole('checkbox', { name: /^Skip/ }).count()).toBe(0);
    expect(await page.getByTestId('dataset-notice').textContent()).toBe(
      'Kept train.jsonl + valid.jsonl; huge.jsonl has no usable example (file is 51 MB, over the limit of 50 MB (52,428,800 bytes)).',
    );
    expect(await page.getByTestId('dataset-status').textContent()).toContain('Ready to train: train.jsonl + valid.jsonl');
    await poll(() => page.getByTestId('plan-status').textContent()).toMatch(/^\s*Ready: train\.jsonl \+ valid\.jsonl/);
  });

  it('opens the file picker from the keyboard: the drop zone is a button', async () => {
    const zone = page.getByRole('button', { name: /Drop dataset files here/ });
    await zone.focus();
    const chooser = page.waitForEvent('filechooser', { timeout: 10_000 });
    // Playwright turns on file-chooser interception asynchronously; give it a moment before the key.
    await page.waitForTimeout(500);
    await page.keyboard.press('Enter');
    const fc = await chooser;
    expect(fc.isMultiple()).toBe(true);
  });

  it('fits a narrow screen without sideways scrolling', async () => {
    await page.getByRole('button', { name: 'Pip, a cheerful assistant' }).click();
    await poll(() => page.getByTestId('example-count').textContent()).toBe('24');
    expect(await narrowOverflow(page, 'playground-narrow')).toBe(0);
    expect(browser.errors.filter((e) => !e.includes('WebGPU'))).toEqual([]);
  });

  it('loaded the tokenizer and the samples from its own origin, nothing from elsewhere', () => {
    expect(browser.requests).toContain(`${site.url}models/brown-llama-4m/tokenizer.json`);
    expect(browser.requests).toContain(`${site.url}samples/pirate-qa.jsonl`);
    expect(offOrigin(browser.requests, [site.origin])).toEqual([]);
  });
});

// End to end: the built site in Debian's Chromium with WebGPU (SwiftShader here), used as a person
// would. Upload a tiny prompt/completion dataset and see it previewed; train LoRA in the worker and
// watch the loss fall; pause and resume; compare base and tuned output (the tuned model gives the
// trained answer); measure held-out loss; check the engine against onnxruntime-web; export the adapter
// in PEFT's format; reload and find it kept; import it into a fresh browser profile and get the same
// tuned tokens; see a clear error for each kind of bad adapter file. A NaN and a lost GPU device stop a
// run with a message, and Resume continues it. Screenshots and measured numbers go to test-results/.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Download, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StaticServer } from '../../scripts/static-server.mjs';
import { openPage, waitForModel, type Browser } from './browser.ts';
import {
  adapterNames,
  ANSWER,
  compare,
  importAdapter,
  pirateDataset,
  readTraining,
  resumeRun,
  measureGeneralText,
  setSampling,
  setTraining,
  uploadDataset,
  waitForEngine,
  trainStatus,
  waitForRunEnd,
  waitForStep,
  type CompareOutput,
} from './helpers-train.ts';
import { narrowOverflow, RESULTS, screenshot, startSite } from './site.ts';
import { parseSafetensors, tensorToFloat32 } from '../../src/lib/model/safetensors.ts';
import { runCli } from '../cli/run.ts';
import { readZip, writeZip } from '../../src/lib/peft/zip.ts';

const metrics: Record<string, unknown> = {};

/** Small enough for SwiftShader, enough for the 4M model to learn one short answer. */
const SETTINGS = { lr: 0.01, steps: 24, batch: 4, seqLen: 32, warmup: 2, evalEvery: 6 };
const GREEDY = { maxNewTokens: 10, temperature: 0 };
const ONNX_BASE = 'Base model (onnxruntime-web, fp32)';
const ENGINE_BASE = 'Base model (WebGPU engine, no adapter)';
/** The name a run's adapter gets: method and dataset (train.svelte.ts's runName). */
const TRAINED = 'LoRA r8 · pirate.jsonl';
const option = (name: string) => `${name} (adapter)`;
/** A validation-like question: never in the training file. */
const QUESTION = 'Question: What is the cloud?\nAnswer:';

/** Clicks `button` and collects the `count` downloads it starts, saved under `dir`. */
async function downloadsOf(page: Page, click: () => Promise<void>, count: number, dir: string): Promise<Map<string, Buffer>> {
  const seen: Download[] = [];
  const all = new Promise<void>((done) => {
    const on = (d: Download) => {
      seen.push(d);
      if (seen.length === count) {
        page.off('download', on);
        done();
      }
    };
    page.on('download', on);
  });
  await click();
  await all;
  const out = new Map<string, Buffer>();
  for (const d of seen) {
    const path = join(dir, d.suggestedFilename());
    await d.saveAs(path);
    out.set(d.suggestedFilename(), readFileSync(path));
  }
  return out;
}

let site: StaticServer;
let downloads: string;
/** What the first profile produced, for the second to reproduce. */
let exportedZip: { name: string; bytes: Buffer } | null = null;
let exportedFiles: Map<string, Buffer> | null = null;
let tunedInFirstProfile: CompareOutput | null = null;

beforeAll(async () => {
  site = await startSite('/playground/');
  downloads = mkdtempSync(join(tmpdir(), 'lora-playground-downloads-'));
});
afterAll(async () => {
  writeFileSync(resolve(RESULTS, 'e2e-train-metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
  await site?.close();
  rmSync(downloads, { recursive: true, force: true });
});

describe('train LoRA, compare, export and keep the adapter', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ({ browser, page } = await openPage({ webgpu: true }, site.url));
  });
  afterAll(() => browser?.close());

  it('loads the WebGPU engine next to the base model and reports on storage', async () => {
    expect(await waitForModel(page)).toBe('webgpu');
    await waitForEngine(page);
    const storage = page.getByTestId('adapter-storage');
    await expect.poll(() => storage.getAttribute('data-persisted')).toMatch(/^(true|false)$/);
    metrics.storagePersisted = await storage.getAttribute('data-persisted');
    expect(await storage.innerText()).toMatch(/Storage is (persistent|best-effort)/);
  });

  it('previews an uploaded prompt/completion dataset', async () => {
    await uploadDataset(page, 'pirate.jsonl', pirateDataset(12));
    expect(await page.getByTestId('dataset-format').innerText()).toMatch(/completion/i);
    await setTraining(page, SETTINGS);
    expect(await page.getByTestId('train-plan').innerText()).toContain(`${SETTINGS.steps} steps of ${SETTINGS.batch} × ${SETTINGS.seqLen} tokens`);
  });

  it('trains, pauses at a checkpoint, resumes to the end, and the loss falls', async () => {
    const storage = page.getByTestId('adapter-storage');
    const usedBefore = Number(await storage.getAttribute('data-usage'));
    await measureGeneralText(page, false);
    await page.getByRole('button', { name: 'Start training' }).click();
    // Before the first step (pipelines compile, a first validation pass) the screen says what it is
    // doing, with a moving (indeterminate) bar: read both at once.
    await page.getByTestId('train-stage').waitFor();
    const before = await page.evaluate(() => ({
      stage: document.querySelector('[data-testid="train-stage"]')?.textContent ?? '',
      barValue: document.querySelector('[role="progressbar"][aria-label="Training progress"]')?.getAttribute('aria-valuenow') ?? null,
    }));
    expect(before.stage).toMatch(/plan|validation loss|checkpoint|compiling the GPU programs/);
    expect(before.barValue).toBeNull();
    await screenshot(page, 'train-first-seconds');
    await waitForStep(page, 6);
    expect(await page.getByTestId('train-stage').count()).toBe(0);
    // The run holds the engine: the model cannot be reloaded or changed until it ends, and the panel says why.
    expect(await page.getByRole('button', { name: 'Reload model' }).isDisabled()).toBe(true);
    expect(await page.getByRole('combobox', { name: 'Model', exact: true }).isDisabled()).toBe(true);
    expect(await page.getByRole('combobox', { name: 'Backend', exact: true }).isDisabled()).toBe(true);
    expect(await page.getByTestId('model-locked').innerText()).toMatch(/^The model cannot change while a training run is using the model \(step \d+ of \d+\): pause the run first\.$/);
    await screenshot(page, 'train-running');
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    expect(await waitForRunEnd(page), await trainStatus(page)).toBe('stopped');
    const paused = await readTraining(page);
    expect(paused.step).toBeGreaterThanOrEqual(6);
    expect(paused.step).toBeLessThan(SETTINGS.steps);
    expect(paused.checkpointStep).toBe(paused.step); // Pause saves a checkpoint where it stopped
    expect(await page.getByTestId('train-message').innerText()).toContain(`Stopped at step ${paused.step}`);

    expect(await page.getByRole('button', { name: 'Reload model' }).isDisabled()).toBe(false);
    const phase = await resumeRun(page, paused.step);
    const r = await readTraining(page);
    metrics.train = { ...r, pausedAt: paused.step, settings: SETTINGS };
    console.log('training:', JSON.stringify(metrics.train));
    expect(phase, await trainStatus(page)).toBe('finished');
    expect(r.step).toBe(SETTINGS.steps);
    // The curve kept its first half across the pause: the first loss is the run's first step's.
    expect(r.firstLoss).toBe(paused.firstLoss);
    expect(r.lastLoss).toBeLessThan(r.firstLoss / 2);
    expect(r.lastVal).toBeLessThan(r.firstVal);
    expect(r.tokensPerSecond).toBeGreaterThan(0);
    await screenshot(page, 'train-finished');
    expect(await adapterNames(page)).toContain(TRAINED);
    // The storage line follows the saved adapter (and checkpoints) without a reload.
    await expect.poll(async () => Number(await storage.getAttribute('data-usage'))).toBeGreaterThan(usedBefore);
    // The list says what trained the adapter: the run's steps (the optimizer's counter is reset when a run ends).
    await expect.poll(() => page.getByTestId('adapter-item').first().innerText()).toContain(`${SETTINGS.steps} steps on pirate.jsonl`);
  });

  it('compares base and tuned output for the same prompt: the tuned model gives the trained answer', async () => {
    await setSampling(page, GREEDY);
    const out = await compare(page, { left: ONNX_BASE, right: option(TRAINED), text: QUESTION });
    console.log('compare:', JSON.stringify(out));
    metrics.compare = out;
    expect(out.right.startsWith(ANSWER)).toBe(true);
    expect(out.left.startsWith(ANSWER)).toBe(false);
    expect(out.rightIds).not.toEqual(out.leftIds);
    tunedInFirstProfile = out;
    // Both runtimes' stop reasons in the same words, and the facts apart from each other.
    for (const which of ['left', 'right']) {
      expect(await page.getByTestId(`compare-${which}-stats`).innerText()).toMatch(/^\d+ tokens?\s+[\d.]+ tok\/s\s+first token .+\s+stop: (end of text|token limit)$/);
    }
    await screenshot(page, 'compare-tuned');
    // The engine without the adapter gives what onnxruntime gives: the difference is the adapter.
    const bases = await compare(page, { left: ONNX_BASE, right: ENGINE_BASE, text: QUESTION });
    expect(bases.rightIds).toEqual(bases.leftIds);
    await screenshot(page, 'compare-bases');
  });

  it('offers quick picks from the validation split', async () => {
    const chips = page.getByRole('button', { name: /^Use validation example \d+:/ });
    expect(await chips.count()).toBeGreaterThan(0);
    await chips.first().click();
    const text = await page.getByRole('textbox', { name: 'Text to continue (both sides)' }).inputValue();
    expect(text).toMatch(/^Question: What is the \w+\?\nAnswer:$/);
    expect(await page.getByTestId('compare-reference').innerText()).toBe(ANSWER.trim());
  });

  it('measures held-out loss and perplexity: lower for the tuned adapter than for the base', async () => {
    await page.getByRole('combobox', { name: 'Left side' }).selectOption({ label: ONNX_BASE });
    await page.getByRole('combobox', { name: 'Right side' }).selectOption({ label: option(TRAINED) });
    await page.getByRole('button', { name: /^Measure held-out loss/ }).click();
    await page.getByTestId('compare-eval').waitFor({ timeout: 300_000 });
    const base = Number(await page.getByTestId('compare-eval-left').getAttribute('data-loss'));
    const tuned = Number(await page.getByTestId('compare-eval-right').getAttribute('data-loss'));
    metrics.heldOut = { base, tuned, basePerplexity: Math.exp(base), tunedPerplexity: Math.exp(tuned) };
    expect(tuned).toBeLessThan(base);
    // The last validation loss of the run is the same measurement.
    expect(Math.abs(tuned - (metrics.train as { lastVal: number }).lastVal)).toBeLessThan(1e-3);
  });

  it('shows that the engine’s base matches onnxruntime-web on the prompt (max logit difference under 1e-3)', async () => {
    await page.getByRole('button', { name: 'Check engine against onnxruntime-web' }).click();
    const result = page.getByTestId('compare-parity');
    await result.or(page.getByText(/The check failed/)).first().waitFor({ timeout: 120_000 });
    const max = Number(await result.getAttribute('data-max'));
    metrics.parityMaxAbsDiff = max;
    expect(await result.getAttribute('data-pass')).toBe('true');
    expect(max).toBeLessThan(1e-3);
    expect(await result.innerText()).toMatch(/^Pass:/);
  });

  it('exports the adapter in PEFT format, as a .zip and as two files', async () => {
    const zip = await downloadsOf(page, () => page.getByRole('button', { name: `Export ${TRAINED} as .zip` }).click(), 1, downloads);
    const [zipName, zipBytes] = [...zip][0];
    expect(zipName).toMatch(/\.zip$/);
    const entries = await readZip(new Uint8Array(zipBytes));
    expect(entries.map((e) => e.name).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const config = JSON.parse(new TextDecoder().decode(entries.find((e) => e.name === 'adapter_config.json')!.data));
    expect(config).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 8, lora_alpha: 16, base_model_name_or_path: 'brown-llama-4m' });
    const st = parseSafetensors(entries.find((e) => e.name === 'adapter_model.safetensors')!.data);
    expect(st.byName.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')?.shape).toEqual([8, 256]);
    expect(st.byName.get('base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight')?.shape).toEqual([256, 8]);
    exportedZip = { name: zipName, bytes: zipBytes };
    writeFileSync(resolve(RESULTS, 'exported-adapter.zip'), zipBytes);

    const two = await downloadsOf(page, () => page.getByRole('button', { name: `Export ${TRAINED} as two files` }).click(), 2, downloads);
    expect([...two.keys()].sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect(two.get('adapter_model.safetensors')!.equals(Buffer.from(entries.find((e) => e.name === 'adapter_model.safetensors')!.data))).toBe(true);
    exportedFiles = two;
  });

  it('the command line trains the same adapter from the same file and settings (one run loop, no pause)', async () => {
    // The page's run above was paused and resumed; the command line runs straight through. Both start
    // from the page's defaults for everything the page did not set.
    const data = join(downloads, 'pirate.jsonl');
    writeFileSync(data, pirateDataset(12));
    const out = join(downloads, 'cli-adapter');
    const s = SETTINGS;
    const args = ['train', '--model', 'models/brown-llama-4m', '--data', data, '--method', 'lora', '--lr', String(s.lr), '--steps', String(s.steps)];
    args.push('--batch', String(s.batch), '--seq-len', String(s.seqLen), '--warmup', String(s.warmup), '--eval-every', String(s.evalEvery), '--out', out, '--json');
    const r = await runCli(args);
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    const cliConfig = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
    expect(cliConfig).toEqual(JSON.parse(exportedFiles!.get('adapter_config.json')!.toString('utf8')));
    const page = parseSafetensors(new Uint8Array(exportedFiles!.get('adapter_model.safetensors')!));
    const cli = parseSafetensors(new Uint8Array(readFileSync(join(out, 'adapter_model.safetensors'))));
    expect(cli.tensors.map((t) => t.name).sort()).toEqual(page.tensors.map((t) => t.name).sort());
    let worst = 0;
    let identical = true;
    for (const t of page.tensors) {
      const a = tensorToFloat32(page, t.name);
      const b = tensorToFloat32(cli, t.name);
      let scale = 0;
      for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]));
      for (let i = 0; i < a.length; i++) {
        if (a[i] !== b[i]) identical = false;
        worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(scale, 1e-30));
      }
    }
    const cliMetrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    const pageLastVal = (metrics.train as { lastVal: number }).lastVal;
    metrics.pageVsCli = { identical, worstRelativeDifference: worst, pageLastVal, cliLastVal: cliMetrics.validation_loss.at(-1).loss };
    console.log('page vs command line:', JSON.stringify(metrics.pageVsCli));
    expect(worst).toBeLessThanOrEqual(1e-5);
    expect(Math.abs(cliMetrics.validation_loss.at(-1).loss - pageLastVal)).toBeLessThanOrEqual(1e-5 * pageLastVal);
  });

  it('keeps the adapter across a reload, and a rename too; the finished run is named but not offered for Resume', async () => {
    await page.reload();
    await waitForModel(page);
    await expect.poll(() => adapterNames(page)).toContain(TRAINED);
    const earlier = page.getByTestId('train-earlier');
    await earlier.waitFor();
    expect(await earlier.getAttribute('data-resumable')).toBe('false');
    expect(await earlier.innerText()).toContain(`finished all ${SETTINGS.steps} steps on pirate.jsonl`);
    expect(await page.getByRole('button', { name: /^Resume/ }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: `Rename ${TRAINED}` }).click();
    await page.getByRole('textbox', { name: `New name for ${TRAINED}` }).fill('Pirate answers');
    await page.getByRole('button', { name: 'Save name' }).click();
    await expect.poll(() => adapterNames(page)).toContain('Pirate answers');
    await page.reload();
    await waitForModel(page);
    await expect.poll(() => adapterNames(page)).toEqual(['Pirate answers']);
    await screenshot(page, 'adapters-after-reload');
  });
});

describe('a fresh browser profile', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ({ browser, page } = await openPage({ webgpu: true }, site.url));
    await waitForModel(page);
    await waitForEngine(page);
  });
  afterAll(() => browser?.close());

  it('starts with no adapters, imports the exported .zip under the name it was exported with, and gets the same tuned tokens', async () => {
    expect(exportedZip, 'the first profile exported an adapter').not.toBeNull();
    expect(await adapterNames(page)).toEqual([]);
    // Saved under another file name, as a browser does with a second download: the name comes from the files.
    expect(await importAdapter(page, [{ name: 'download (1).zip', buffer: exportedZip!.bytes }])).toBeNull();
    const name = TRAINED;
    await expect.poll(() => adapterNames(page)).toEqual([name]);
    await screenshot(page, 'adapter-imported');
    await setSampling(page, GREEDY);
    const out = await compare(page, { left: ONNX_BASE, right: option(name), text: QUESTION });
    expect(out.rightIds).toEqual(tunedInFirstProfile!.rightIds);
    expect(out.right).toBe(tunedInFirstProfile!.right);
    expect(out.leftIds).toEqual(tunedInFirstProfile!.leftIds);
  });

  it('imports the two files as well, named from them (numbered, as the name is taken)', async () => {
    const files = [...exportedFiles!].map(([name, buffer]) => ({ name, buffer }));
    expect(await importAdapter(page, files)).toBeNull();
    await expect.poll(() => adapterNames(page)).toEqual([`${TRAINED} (2)`, TRAINED]);
    // The same adapter twice: the second is kept under a numbered name, and said to be identical to the first.
    expect((await page.getByTestId('adapter-imported').innerText()).replace(/\s+/g, ' ').trim()).toBe(
      `Imported “${TRAINED} (2)”. It is identical to “${TRAINED}”, already in the list: the same adapter_config.json settings and weights.`,
    );
  });

  it('says what is wrong with each bad adapter file, and saves none of them', async () => {
    const zip = await readZip(new Uint8Array(exportedZip!.bytes));
    const config = new TextDecoder().decode(zip.find((e) => e.name === 'adapter_config.json')!.data);
    const weights = Buffer.from(zip.find((e) => e.name === 'adapter_model.safetensors')!.data);
    const cfg = JSON.parse(config);
    const file = (name: string, data: string | Buffer | Uint8Array) => ({ name, buffer: Buffer.from(data as Uint8Array) });
    const cases: { what: string; files: { name: string; buffer: Buffer }[]; says: RegExp }[] = [
      { what: 'a file that is not an adapter', files: [file('notes.txt', 'hello')], says: /adapter_config\.json is missing[\s\S]*adapter_model\.safetensors is missing/ },
      { what: 'a corrupt .zip', files: [file('adapter.zip', Buffer.from('PK\u0003\u0004 this is not really a zip'))], says: /adapter\.zip/ },
      {
        what: 'a truncated safetensors file',
        files: [file('adapter_config.json', config), file('adapter_model.safetensors', weights.subarray(0, weights.length >> 1))],
        says: /safetensors/i,
      },
      {
        what: 'safetensors bytes that are not safetensors',
        files: [file('adapter_config.json', config), file('adapter_model.safetensors', Buffer.alloc(64, 0x41))],
        says: /adapter_model\.safetensors/,
      },
      {
        what: 'an unknown peft_type',
        files: [file('adapter_config.json', JSON.stringify({ ...cfg, peft_type: 'IA3' })), file('adapter_model.safetensors', weights)],
        says: /peft_type "IA3" is not supported/,
      },
      {
        what: 'shapes that do not fit the base model (r says 16, the tensors have 8)',
        files: [file('adapter_config.json', JSON.stringify({ ...cfg, r: 16 })), file('adapter_model.safetensors', weights)],
        says: /has shape \[8, 256\], but brown-llama-4m needs \[16, 256\]/,
      },
      {
        what: 'an adapter for another architecture (GPT-2 module names)',
        files: [file('adapter_config.json', JSON.stringify({ ...cfg, target_modules: ['c_attn'] })), file('adapter_model.safetensors', weights)],
        says: /match no module of brown-llama-4m/,
      },
      {
        what: 'a PyTorch pickle instead of safetensors',
        files: [file('adapter_config.json', config), file('adapter_model.bin', Buffer.from('not a pickle'))],
        says: /adapter_model\.bin \(PyTorch pickle\) is not supported/,
      },
      { what: 'invalid JSON', files: [file('adapter_config.json', '{"peft_type": '), file('adapter_model.safetensors', weights)], says: /not valid JSON/ },
    ];
    const seen: Record<string, string> = {};
    for (const c of cases) {
      const error = await importAdapter(page, c.files);
      seen[c.what] = error ?? '(imported!)';
      expect(error, c.what).not.toBeNull();
      expect(error, c.what).toMatch(c.says);
    }
    // A zip holding the corrupt pair names the inner problem too.
    const badZip = writeZip([
      { name: 'adapter_config.json', data: new TextEncoder().encode(JSON.stringify({ ...cfg, r: 16 })) },
      { name: 'adapter_model.safetensors', data: new Uint8Array(weights) },
    ]);
    seen['a .zip with shapes that do not fit'] = (await importAdapter(page, [file('bad.zip', badZip)])) ?? '(imported!)';
    expect(seen['a .zip with shapes that do not fit']).toMatch(/needs \[16, 256\]/);
    metrics.badAdapterFiles = seen;
    await screenshot(page, 'adapter-import-error');
    expect((await adapterNames(page)).length).toBe(2);
  });

  it('deletes an adapter (after a confirmation), and it stays deleted after a reload', async () => {
    const [first] = await adapterNames(page);
    await page.getByRole('button', { name: `Delete ${first}`, exact: true }).click();
    await page.getByRole('button', { name: `Delete ${first} for good` }).click();
    await expect.poll(() => adapterNames(page)).not.toContain(first);
    await page.reload();
    await waitForModel(page);
    await expect.poll(() => adapterNames(page)).toHaveLength(1);
    expect(await adapterNames(page)).not.toContain(first);
  });

  it('labels every control of the training, compare and adapter screens, and fits a narrow screen', async () => {
    const unlabeled = await page.evaluate(() => {
      const out: string[] = [];
      for (const id of ['train-heading', 'compare-heading', 'adapters-heading']) {
        const section = document.getElementById(id)?.closest('section');
        if (!section) {
          out.push(`no section for ${id}`);
          continue;
        }
        for (const el of section.querySelectorAll<HTMLElement>('button, input, select, textarea')) {
          const name =
            el.getAttribute('aria-label') ||
            (el.id && document.querySelector(`label[for="${el.id}"]`)?.textContent) ||
            el.closest('label')?.textContent ||
            (el.tagName === 'BUTTON' ? el.textContent : '');
          if (!name?.trim()) out.push(`${id}: <${el.tagName.toLowerCase()}> ${el.outerHTML.slice(0, 80)}`);
        }
      }
      return out;
    });
    expect(unlabeled).toEqual([]);
    expect(await narrowOverflow(page, 'train-screens-narrow')).toBe(0);
  });
});

describe('recovery: a NaN loss and a lost GPU device', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ({ browser, page } = await openPage({ webgpu: true }));
  });
  afterAll(() => browser?.close());

  /** Opens the site with `query`, starts a run of `steps` steps and waits until it ends; returns its phase. */
  async function run(query: string, steps: number): Promise<string> {
    await page.goto(`${site.url}?${query}`);
    await waitForModel(page);
    await waitForEngine(page);
    await uploadDataset(page, 'pirate.jsonl', pirateDataset(12));
    await setTraining(page, { ...SETTINGS, steps, evalEvery: steps });
    await measureGeneralText(page, false);
    await page.getByRole('button', { name: 'Start training' }).click();
    return waitForRunEnd(page);
  }

  it('stops on a NaN loss with a clear message and restores the last good weights', async () => {
    expect(await run('debug-nan-after=3', 8), await trainStatus(page)).toBe('diverged');
    const message = await page.getByTestId('train-message').innerText();
    metrics.nanMessage = message;
    expect(message).toMatch(/At step 4, the loss became NaN\. Training stopped and the weights were restored from step 3\./);
    const r = await readTraining(page);
    expect(r.step).toBe(3);
    expect(Number.isFinite(r.lastLoss)).toBe(true);
    await screenshot(page, 'train-nan');
    // The adapter kept from the run holds the restored, finite weights (export refuses NaN).
    expect(await adapterNames(page)).toContain(TRAINED);
    // Resume continues from the restored checkpoint to the end.
    expect(await resumeRun(page, 3), await trainStatus(page)).toBe('finished');
    expect((await readTraining(page)).step).toBe(8);
  });

  it('reports a lost GPU device and resumes from the checkpoint on a new device', async () => {
    expect(await run('debug-lose-device=5', 10), await trainStatus(page)).toBe('device-lost');
    const message = await page.getByTestId('train-message').innerText();
    metrics.deviceLostMessage = message;
    expect(message).toMatch(/The GPU device was (lost|destroyed)/);
    const saved = (await readTraining(page)).checkpointStep;
    expect(saved).not.toBeNull();
    expect(message).toContain(`from its checkpoint at step ${saved}`);
    await screenshot(page, 'train-device-lost');
    expect(await resumeRun(page, saved!), await trainStatus(page)).toBe('finished');
    const r = await readTraining(page);
    expect(r.step).toBe(10);
    expect(r.lastLoss).toBeLessThan(r.firstLoss);
  });
});

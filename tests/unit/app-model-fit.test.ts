// The picker's check before download (BaseModelState.fit, train/fit.ts): a catalog model is checked
// against the LoRA run the method panel describes. A run that does not fit is named with the numbers
// and the settings that would fit, and the model still loads; a model whose weights alone are over the
// budget is refused without asking the worker for anything.
import { describe, expect, it } from 'vitest';
import type { EngineClient } from '../../src/lib/worker/client.ts';
import { DEFAULTS } from '../../src/lib/train/config.ts';
import { BaseModelState, CUSTOM_MODEL } from '../../src/ui/base.svelte.ts';
import { parsePageOptions } from '../../src/ui/url-options.ts';

function setup() {
  const requests: string[] = [];
  const client = {
    request(kind: string) {
      requests.push(kind);
      return { id: 1, result: new Promise(() => {}), cancel() {} };
    },
  } as unknown as EngineClient;
  const base = new BaseModelState(client, parsePageOptions(''));
  let run = { method: DEFAULTS.methods.LORA, B: 8, T: 128 };
  base.checkRunsWith(() => run);
  return { base, requests, setRun: (B: number, T: number) => (run = { ...run, B, T }) };
}

describe('the picker checks a catalog model before download', () => {
  it('states the memory of a LoRA run at the panel\'s batch and length; the default model fits', () => {
    const { base } = setup();
    expect(base.fit?.entry.id).toBe('brown-llama-4m');
    expect(base.fit?.settings).toMatchObject({ B: 8, T: 128 });
    expect(base.fit?.check.estimate.total).toBeGreaterThan(0);
    expect(base.fit?.refusal).toBeNull();
  });

  it('Qwen3-0.6B at batch 16 × 512: the run is refused with the settings that fit, and the model still loads', async () => {
    const { base, requests, setRun } = setup();
    setRun(16, 512);
    base.choice = 'Qwen/Qwen3-0.6B';
    expect(base.fit?.refusal).toBeNull();
    expect(base.fit?.runRefusal).toMatch(/^A LoRA run of Qwen3 0\.6B at these settings needs .* more than the 4,096 MiB .* would fit/);
    (globalThis as { document?: unknown }).document = { baseURI: 'http://localhost/app/' };
    try {
      void base.load();
      expect(requests).toEqual(['load']);
    } finally {
      delete (globalThis as { document?: unknown }).document;
    }
  });

  it('refuses a model whose weights alone are over the budget, and load() asks the worker nothing', async () => {
    const { base, requests } = setup();
    base.memoryBudget = 512 * 1024 ** 2;
    base.choice = 'Qwen/Qwen3-0.6B';
    expect(base.fit?.refusal).toMatch(/^Qwen3 0\.6B is not loaded: its weights alone need [\d,]+ MiB/);
    await base.load();
    expect(requests).toEqual([]);
    expect(base.phase).toBe('error');
    expect(base.error).toBe(base.fit?.refusal);
  });

  it('says nothing about a repo typed by hand (its config is not known before download)', () => {
    const { base } = setup();
    base.choice = CUSTOM_MODEL;
    expect(base.fit).toBeNull();
  });
});

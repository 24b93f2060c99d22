// train/fit.ts: a LoRA run checked against the GPU before the model is downloaded, from the catalog's
// config alone; a refusal names the numbers and the nearest settings that fit, and those settings do fit.
import { describe, expect, it } from 'vitest';
import { findModel, DEFAULT_MODEL_ID } from '../../src/lib/base/catalog';
import { parseModelConfig } from '../../src/lib/model/config';
import { DEFAULT_MEMORY_BUDGET, estimateTrainingMemory } from '../../src/lib/train/memory';
import { DEFAULTS } from '../../src/lib/train/config';
import { checkFit, describeFit, loadRefusal, WEBGPU_DEFAULT_LIMITS, type RunSettings } from '../../src/lib/train/fit';

const cfgOf = (id: string) => parseModelConfig(findModel(id)!.config);
const LORA = DEFAULTS.methods.LORA;
const run = (B: number, T: number): RunSettings => ({ method: LORA, B, T });
const BIG = { maxBufferSize: 2 ** 40, maxStorageBufferBindingSize: 2 ** 40 };

describe('checkFit', () => {
  it('the shipped model at the default settings fits the smallest WebGPU adapter', () => {
    const f = checkFit(cfgOf(DEFAULT_MODEL_ID), run(8, 128), DEFAULT_MEMORY_BUDGET, WEBGPU_DEFAULT_LIMITS);
    expect(f.problem).toBeNull();
    expect(f.fits).toBeNull();
    expect(describeFit('Brown Llama 4M', f)).toBeNull();
    expect(f.loads).toBe(true);
    expect(f.estimate).toEqual(estimateTrainingMemory(cfgOf(DEFAULT_MODEL_ID), LORA, 8, 128));
  });

  it('Qwen3-0.6B at batch 16 × 512 is over 4 GiB: the run is refused with the numbers, the suggested settings fit, and the model still loads', () => {
    const cfg = cfgOf('Qwen/Qwen3-0.6B');
    const f = checkFit(cfg, run(16, 512), DEFAULT_MEMORY_BUDGET, BIG);
    expect(f.estimate.total).toBeGreaterThan(DEFAULT_MEMORY_BUDGET);
    expect(f.problem).toMatch(/more than the 4,096 MiB of GPU memory a run may use/);
    expect(f.fits).not.toBeNull();
    const { settings } = f.fits!;
    expect(settings.B * settings.T).toBeLessThan(16 * 512);
    expect(checkFit(cfg, settings, DEFAULT_MEMORY_BUDGET, BIG).problem).toBeNull();
    expect(describeFit('Qwen3 0.6B', f)).toMatch(/^A LoRA run of Qwen3 0\.6B at these settings needs weights .* would fit \(\d[\d,]* MiB\)\.$/);
    expect(f.loads).toBe(true);
    expect(loadRefusal('Qwen3 0.6B', f)).toBeNull();
  });

  it('a buffer over the adapter\'s binding limit is named with both limits', () => {
    const cfg = cfgOf('HuggingFaceTB/SmolLM2-135M-Instruct');
    const limits = { maxBufferSize: 256 * 1024 ** 2, maxStorageBufferBindingSize: 4 * 1024 ** 2 };
    const f = checkFit(cfg, run(8, 256), 64 * 1024 ** 3, limits);
    expect(f.largest.bytes).toBeGreaterThan(4 * 1024 ** 2);
    expect(f.problem).toContain(`its largest buffer (${f.largest.label}`);
    expect(f.problem).toContain('maxStorageBufferBindingSize 4 MiB');
    expect(f.fits).not.toBeNull();
    expect(checkFit(cfg, f.fits!.settings, 64 * 1024 ** 3, limits).problem).toBeNull();
  });

  it('when even the weights do not fit, the model is not loaded and it says to pick a smaller model', () => {
    const f = checkFit(cfgOf('openai-community/gpt2'), run(8, 128), 256 * 1024 ** 2, BIG);
    expect(f.fits).toBeNull();
    expect(f.loads).toBe(false);
    expect(describeFit('GPT-2', f)).toMatch(/pick a smaller model\.$/);
    expect(loadRefusal('GPT-2', f)).toMatch(/^GPT-2 is not loaded: its weights alone need [\d,]+ MiB, more than the GPU memory a run may use/);
  });

  it('preference pairs take two rows each: the estimate is at 2·B rows, the suggested batch counts pairs', () => {
    const cfg = cfgOf('Qwen/Qwen3-0.6B');
    const pairs = checkFit(cfg, { ...run(8, 128), rowsPerExample: 2 }, DEFAULT_MEMORY_BUDGET, BIG);
    expect(pairs.estimate).toEqual(estimateTrainingMemory(cfg, LORA, 16, 128));
    const budget = (estimateTrainingMemory(cfg, LORA, 8, 128).total + pairs.estimate.total) / 2;
    const f = checkFit(cfg, { ...run(8, 128), rowsPerExample: 2 }, budget, BIG);
    expect(f.fits?.change).toMatch(/^(max_length 64|batch 4)$/);
    expect(f.fits!.estimate.total).toBeLessThanOrEqual(budget);
  });

  it('falls back to fewer LoRA targets when length and batch cannot shrink', () => {
    const cfg = cfgOf('HuggingFaceTB/SmolLM2-135M-Instruct');
    const all = estimateTrainingMemory(cfg, LORA, 1, 16).total;
    const qv = estimateTrainingMemory(cfg, { ...LORA, target_modules: ['q_proj', 'v_proj'] }, 1, 16).total;
    const f = checkFit(cfg, run(1, 16), (all + qv) / 2, BIG);
    expect(f.fits?.change).toBe('LoRA on q_proj and v_proj only');
  });
});

// Will a LoRA run of a model fit the GPU, known before its weights are downloaded? The model's
// config.json shapes (the catalog carries them) give the same estimate the training plan makes
// (memory.ts: weights, trainable weights + gradients + AdamW moments, activations at batch × length),
// checked against the memory a run may use and the adapter's buffer limits (maxBufferSize,
// maxStorageBufferBindingSize: every activation tensor is one buffer, bound whole; weights bigger
// than a binding are split into row chunks by the engine, so only activations can exceed a limit).
// What does not fit is refused with the numbers and the nearest settings that would fit: the run
// (the training plan refuses to start it), and the model itself only when its weights alone are over
// the budget (the picker then does not load it).

import type { MethodConfig } from '../adapters/config.ts';
import { activationTensors } from '../model/activations.ts';
import type { ModelConfig } from '../model/config.ts';
import { tensorBufferBytes } from '../gpu/tensor.ts';
import { activationShapeFor, describeMemory, estimateTrainingMemory, type MemoryEstimate } from './memory.ts';

/** The adapter limits a run is checked against (GPUSupportedLimits' names). */
export interface BufferLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

/** WebGPU's guaranteed minimums: what every adapter offers, used when the page knows no better. */
export const WEBGPU_DEFAULT_LIMITS: BufferLimits = { maxBufferSize: 256 * 1024 ** 2, maxStorageBufferBindingSize: 128 * 1024 ** 2 };

export interface RunSettings {
  method: MethodConfig;
  /** per_device_train_batch_size: examples per micro-batch */
  B: number;
  /** max_length */
  T: number;
  /** rows each example takes: 2 for preference pairs (chosen and rejected), else 1 (the default) */
  rowsPerExample?: number;
}

export interface FitCheck {
  estimate: MemoryEstimate;
  /** the weights alone fit the budget: the model can be loaded (to generate, or to train at smaller settings) */
  loads: boolean;
  /** bytes of the largest activation buffer and its name */
  largest: { label: string; bytes: number };
  /** null when it fits; else why not, with the numbers */
  problem: string | null;
  /** when it does not fit: the first of shorter sequences, smaller batches, fewer LoRA targets that fits (null: none) */
  fits: { settings: RunSettings; change: string; estimate: MemoryEstimate } | null;
}

const mib = (bytes: number) => `${Math.round(bytes / 1024 ** 2).toLocaleString('en-US')} MiB`;

/** No buffer limit: the check of memory alone (the training plan's, which knows no adapter). */
export const NO_BUFFER_LIMITS: BufferLimits = { maxBufferSize: Infinity, maxStorageBufferBindingSize: Infinity };

function measure(cfg: ModelConfig, s: RunSettings) {
  const rows = s.B * (s.rowsPerExample ?? 1);
  const estimate = estimateTrainingMemory(cfg, s.method, rows, s.T);
  let largest = { label: '', bytes: 0 };
  for (const t of activationTensors(cfg, activationShapeFor(cfg, s.method), rows, s.T, true)) {
    const bytes = tensorBufferBytes(t.shape);
    if (bytes > largest.bytes) largest = { label: t.label, bytes };
  }
  return { estimate, largest };
}

function problemOf(m: ReturnType<typeof measure>, budget: number, limits: BufferLimits): string | null {
  const bufferLimit = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  const p: string[] = [];
  if (m.estimate.total > budget) p.push(`needs ${describeMemory(m.estimate)}, more than the ${mib(budget)} of GPU memory a run may use`);
  if (m.largest.bytes > bufferLimit) {
    p.push(`its largest buffer (${m.largest.label}, ${mib(m.largest.bytes)}) is over this GPU's buffer limit of ${mib(bufferLimit)} (maxBufferSize ${mib(limits.maxBufferSize)}, maxStorageBufferBindingSize ${mib(limits.maxStorageBufferBindingSize)})`);
  }
  return p.length ? p.join('; ') : null;
}

/** The projections attention-only LoRA keeps: the fewer-targets fallback (q and v, as the LoRA paper). */
function fewerTargets(cfg: ModelConfig): string[] {
  return cfg.family === 'gpt2' ? ['c_attn'] : ['q_proj', 'v_proj'];
}

/** Checks a run's settings on a model; when they do not fit, finds settings that would. */
export function checkFit(cfg: ModelConfig, settings: RunSettings, budget: number, limits: BufferLimits): FitCheck {
  const m = measure(cfg, settings);
  const loads = m.estimate.weights <= budget;
  const problem = problemOf(m, budget, limits);
  if (!problem) return { ...m, loads, problem, fits: null };
  // Shorter sequences first (the cheapest change for short examples), then smaller batches, then
  // fewer LoRA targets at the settings' own batch and length.
  const candidates: { settings: RunSettings; change: string }[] = [];
  for (let T = settings.T >> 1; T >= 16; T >>= 1) candidates.push({ settings: { ...settings, T }, change: `max_length ${T}` });
  for (let T = settings.T; T >= 16; T >>= 1) {
    for (let B = settings.B >> 1; B >= 1; B >>= 1) candidates.push({ settings: { ...settings, B, T }, change: `batch ${B}${T === settings.T ? '' : `, max_length ${T}`}` });
  }
  const method = settings.method;
  if (method.peft_type === 'LORA') {
    const targets = fewerTargets(cfg);
    candidates.push({ settings: { ...settings, method: { ...method, target_modules: targets } }, change: `LoRA on ${targets.join(' and ')} only` });
  }
  for (const c of candidates) {
    const e = measure(cfg, c.settings);
    if (!problemOf(e, budget, limits)) return { ...m, loads, problem, fits: { ...c, estimate: e.estimate } };
  }
  return { ...m, loads, problem, fits: null };
}

/** What would fit instead, as a sentence ('' when the settings fit). */
export function fitSuggestion(f: FitCheck): string {
  if (!f.problem) return '';
  return f.fits
    ? `${f.fits.change} would fit (${mib(f.fits.estimate.total)}).`
    : 'No shorter sequence, smaller batch or smaller LoRA fits: pick a smaller model.';
}

/**
 * Why the model is not loaded, or null. Only a model whose weights alone are over the budget is
 * refused: one that loads can still generate, and train at the settings that fit (the training
 * plan refuses the run itself: describeFit).
 */
export function loadRefusal(name: string, f: FitCheck): string | null {
  if (f.loads) return null;
  return `${name} is not loaded: its weights alone need ${mib(f.estimate.weights)}, more than the GPU memory a run may use. Pick a smaller model.`;
}

/** The run's refusal in one sentence: what does not fit and what would; null when it fits. */
export function describeFit(name: string, f: FitCheck): string | null {
  if (!f.problem) return null;
  return `A LoRA run of ${name} at these settings ${f.problem}. ${fitSuggestion(f)}`;
}

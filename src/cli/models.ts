// `lora-playground models`: the page's model picker without the page — every catalog model with its
// parameters, download sizes and the GPU memory of a LoRA run at a batch and length, checked before
// anything is downloaded (train/fit.ts, the same check the picker makes), with the settings that
// would fit when it does not.

import { CATALOG } from '../lib/base/catalog.ts';
import { parseModelConfig } from '../lib/model/config.ts';
import { DEFAULTS } from '../lib/train/config.ts';
import { checkFit, describeFit, loadRefusal, WEBGPU_DEFAULT_LIMITS } from '../lib/train/fit.ts';
import { DEFAULT_MEMORY_BUDGET } from '../lib/train/memory.ts';
import type { Command, Parsed } from './args.ts';
import type { Reporter } from './output.ts';

const MiB = 1024 ** 2;

const flags = {
  batch: { kind: 'int', min: 1, help: `rows per step of the LoRA run checked (${DEFAULTS.training.per_device_train_batch_size})` },
  maxLength: { kind: 'int', min: 2, help: `positions per row (${DEFAULTS.training.max_length})` },
  memoryBudgetMb: { kind: 'int', min: 1, help: `GPU memory a run may use, in MiB (${DEFAULT_MEMORY_BUDGET / MiB}: WebGPU reports none)` },
  maxBufferMb: {
    kind: 'int',
    min: 1,
    help: `the adapter's maxBufferSize and maxStorageBufferBindingSize, in MiB (WebGPU's guaranteed ${WEBGPU_DEFAULT_LIMITS.maxBufferSize / MiB} and ${WEBGPU_DEFAULT_LIMITS.maxStorageBufferBindingSize / MiB})`,
  },
} as const;

export const modelsCommand: Command<typeof flags> = {
  name: 'models',
  summary: 'list the catalog\'s models: sizes, and whether a LoRA run at a batch and length fits the GPU',
  description:
    'Nothing is downloaded: the catalog carries each model\'s config. The LoRA run is the default one (all-linear, r 8).\n' +
    'A model loads when its weights alone fit the budget ("loads"); the run fits when everything does ("fits").\n' +
    'With --json the last line is {"event":"result","command":"models","models":[{"id","params","weightsBytes","memory":{…},"loads","fits","refusal","wouldFit"},…],…}.',
  flags,
  examples: ['lora-playground models', 'lora-playground models --batch 16 --max-length 512 --json'],
};

export async function runModels(args: Parsed<typeof flags>, out: Reporter): Promise<void> {
  const B = args.batch ?? DEFAULTS.training.per_device_train_batch_size;
  const T = args.maxLength ?? DEFAULTS.training.max_length;
  const budget = (args.memoryBudgetMb ?? DEFAULT_MEMORY_BUDGET / MiB) * MiB;
  const limits = args.maxBufferMb ? { maxBufferSize: args.maxBufferMb * MiB, maxStorageBufferBindingSize: args.maxBufferMb * MiB } : WEBGPU_DEFAULT_LIMITS;
  const method = DEFAULTS.methods.LORA;
  const models = CATALOG.map((m) => {
    const check = checkFit(parseModelConfig(m.config), { method, B, T }, budget, limits);
    return {
      id: m.id,
      label: m.label,
      onnx: m.onnx ?? m.id,
      params: m.params,
      weightsBytes: m.weightsBytes,
      onnxSize: m.size,
      chat: m.chat,
      memory: check.estimate,
      loads: check.loads,
      fits: check.problem === null,
      refusal: loadRefusal(m.label, check) ?? describeFit(m.label, check),
      wouldFit: check.fits && { batch: check.fits.settings.B, maxLength: check.fits.settings.T, targetModules: check.fits.settings.method.peft_type === 'LORA' ? check.fits.settings.method.target_modules : null, bytes: check.fits.estimate.total },
    };
  });
  const mb = (n: number) => `${Math.round(n / MiB).toLocaleString('en-US')} MiB`;
  out.result(
    'models',
    { batch: B, maxLength: T, memoryBudget: budget, limits, models },
    {
      out: models.map((m) => `${m.fits ? 'fits    ' : m.loads ? 'run over' : 'too big '}  ${m.id}  ${(m.params / 1e6).toFixed(1)}M params, weights ${mb(m.weightsBytes)}, LoRA at ${B}×${T}: ${mb(m.memory.total)}`),
      note: models.flatMap((m) => (m.refusal ? [m.refusal] : [])),
    },
  );
}

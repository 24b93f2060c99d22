// The reward model's head: transformers' LlamaForSequenceClassification "score" with num_labels 1 —
// nn.Linear(hidden, 1, bias=False) on the final (normed) hidden state of each sequence's last token.
// It trains with the adapter and saves as PEFT saves a module of modules_to_save: under the module's
// own path, base_model.model.score.weight, shape (1, C). transformers initialises it N(0, 0.02)
// (initializer_range); drawn here from the adapter's seed after the adapter's own values.
import type { Architecture } from '../model/architecture.ts';
import type { ParamSpec } from '../model/params.ts';
import { PEFT_PREFIX } from './lora.ts';

export const SCORE_KEY = `${PEFT_PREFIX}score.weight`;

/** transformers' initializer_range default, the std of a fresh head */
export const SCORE_INIT_STD = 0.02;

export function scoreSpecs(arch: Architecture): ParamSpec[] {
  return [{ name: SCORE_KEY, shape: [1, arch.cfg.hidden] }];
}

/** N(0, 0.02²) by Box–Muller from the seeded generator. */
export function scoreInit(spec: ParamSpec, rng: () => number): Float32Array {
  const n = spec.shape[0] * spec.shape[1];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(Math.max(rng(), 1e-12)));
    const v = rng();
    out[i] = SCORE_INIT_STD * r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = SCORE_INIT_STD * r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

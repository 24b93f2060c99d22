// AdamW: one dispatch updates every trainable parameter (one flat buffer), with decoupled weight
// decay, bias correction, the learning rate in the uniform (so a schedule costs nothing), and the
// clip scale / skip-on-NaN read from gradNorm's stats on the GPU.
import { grid1d, numel, params, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import updateWgsl from './update.wgsl?raw';

const ADAMW: Kernel = { name: 'adamw', file: 'src/lib/ops/adamw/update.wgsl', code: updateWgsl };

export interface AdamWOptions {
  lr: number;
  /** 1-based step number, for bias correction. */
  t: number;
  /** default 0.9 */
  beta1?: number;
  /** default 0.999 */
  beta2?: number;
  /** default 1e-8 */
  eps?: number;
  /** default 0 (decoupled: param *= 1 - lr·wd) */
  weightDecay?: number;
  /** gradNorm() output: scales gradients by its clip factor and skips the step on NaN/Inf. */
  stats?: Tensor;
}

/** param, m, v (N) updated in place from grad (N). They must be four different buffers. */
export function adamwStep(rec: Recorder, param: Tensor, m: Tensor, v: Tensor, grad: Tensor, o: AdamWOptions): void {
  const N = numel(param.shape);
  for (const [name, t] of [['m', m], ['v', v], ['grad', grad]] as const) {
    if (numel(t.shape) !== N) throw new Error(`adamwStep: ${name} [${t.shape}] differs in size from param [${param.shape}]`);
  }
  if (!(o.t >= 1)) throw new Error(`adamwStep: step t = ${o.t} must be >= 1`);
  const beta1 = o.beta1 ?? 0.9;
  const beta2 = o.beta2 ?? 0.999;
  rec.dispatch({
    kernel: ADAMW,
    overrides: { WG: 256 },
    outputs: [param, m, v],
    inputs: [grad, o.stats ?? rec.gpu.scratch('adamw:nostats', 4)],
    params: params(
      N,
      o.stats ? 1 : 0,
      { f32: o.lr },
      { f32: beta1 },
      { f32: beta2 },
      { f32: 1 - beta1 },
      { f32: 1 - beta2 },
      { f32: o.eps ?? 1e-8 },
      { f32: o.weightDecay ?? 0 },
      { f32: 1 - Math.pow(beta1, o.t) },
      { f32: 1 - Math.pow(beta2, o.t) },
    ),
    workgroups: grid1d(N, 256),
  });
}

// A strided 2-D copy between column blocks of row-major matrices (see copy2d.wgsl).
import { grid1d, params, type Kernel, type Recorder, type Tensor } from '../../gpu/index.ts';
import copy2dWgsl from './copy2d.wgsl?raw';

const COPY2D: Kernel = { name: 'model_copy2d', file: 'src/lib/model/kernels/copy2d.wgsl', code: copy2dWgsl };

/** out[m, colOut + n] = inp[m, colIn + n] for an (M, N) block; out is (M, ldOut), inp (M, ldIn). */
export function copy2d(
  rec: Recorder,
  out: Tensor,
  inp: Tensor,
  b: { M: number; N: number; ldOut: number; ldIn: number; colOut: number; colIn: number },
): void {
  rec.dispatch({
    kernel: COPY2D,
    overrides: { WG: 256 },
    outputs: [out],
    inputs: [inp],
    params: params(b.M, b.N, b.ldOut, b.ldIn, b.colOut, b.colIn),
    workgroups: grid1d(b.M * b.N, 256),
  });
}

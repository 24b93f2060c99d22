// The KV cache for generation: per layer, the RoPE-rotated keys and the values of every position
// generated so far, (B,maxT,NKV,HS). Prefix-tuning keys/values are not copied in: the attention
// kernel reads them from the trainable store, in front of the cached positions.
import { createTensor, type Gpu, type Tensor } from '../gpu/index.ts';
import type { ModelConfig } from '../model/config.ts';
import type { KvCache } from '../model/transformer.ts';

export class KvCacheBuffers implements KvCache {
  readonly k: Tensor[];
  readonly v: Tensor[];
  past = 0;

  constructor(
    gpu: Gpu,
    cfg: ModelConfig,
    readonly B: number,
    readonly maxT: number,
  ) {
    const shape = [B, maxT, cfg.kvHeads, cfg.headDim];
    this.k = Array.from({ length: cfg.layers }, (_, l) => createTensor(gpu, shape, 'f32', `kv.k${l}`));
    this.v = Array.from({ length: cfg.layers }, (_, l) => createTensor(gpu, shape, 'f32', `kv.v${l}`));
  }

  get bytes(): number {
    return [...this.k, ...this.v].reduce((n, t) => n + t.buffer.size, 0);
  }

  destroy(): void {
    for (const t of [...this.k, ...this.v]) t.buffer.destroy();
  }
}

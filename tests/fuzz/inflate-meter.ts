// Measures how much a zip reader inflates: while a meter runs, every DecompressionStream the code under
// test creates is one whose output is counted as it streams out. `largest` is the most bytes a single
// stream produced — the allocation a zip bomb would blow up, measured where it happens rather than
// inferred from what the reader returned.

export interface InflateMeter {
  /** Most bytes one stream produced so far. */
  readonly largest: number;
  /** All bytes produced by all streams so far. */
  readonly total: number;
  /** Puts the browser's own DecompressionStream back. */
  stop(): void;
}

export function countInflated(): InflateMeter {
  const Original = globalThis.DecompressionStream;
  let largest = 0;
  let total = 0;
  class Counted extends Original {
    constructor(format: CompressionFormat) {
      super(format);
      let produced = 0;
      const counted = super.readable.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, out) {
            produced += chunk.byteLength;
            total += chunk.byteLength;
            largest = Math.max(largest, produced);
            out.enqueue(chunk);
          },
        }),
      );
      Object.defineProperty(this, 'readable', { value: counted });
    }
  }
  globalThis.DecompressionStream = Counted as typeof DecompressionStream;
  return {
    get largest() {
      return largest;
    },
    get total() {
      return total;
    },
    stop() {
      globalThis.DecompressionStream = Original;
    },
  };
}

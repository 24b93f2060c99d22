// Error scopes: WebGPU reports validation errors asynchronously, so the engine records what it was
// doing when it pushed a scope and turns a popped error into an Error that names the op.
import { GpuCounters } from './counters.ts';

/** A problem the GPU reported (a validation error, a shader that did not compile), named by op. */
export class GpuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuError';
  }
}

/**
 * Checks that cannot be awaited where they start (encoding stays synchronous): each is a promise of
 * an error message or null. check() awaits them all and throws the first failures together.
 */
export class DeferredErrors {
  constructor(
    /** where pushed scopes are counted */
    readonly counters = new GpuCounters(),
  ) {}

  // Only checks still in flight are kept, so a long run that rarely calls check() stays small.
  private pending = new Set<Promise<void>>();
  private failures: { seq: number; msg: string }[] = [];
  private seq = 0;

  /** Pushes a validation scope; the returned function pops it and records the outcome under `what`. */
  scope(device: GPUDevice, what: string): () => void {
    device.pushErrorScope('validation');
    this.counters.errorScopes++;
    return () => {
      this.track(device.popErrorScope().then((e) => (e ? `${what}: ${e.message}` : null)));
    };
  }

  track(p: Promise<string | null>): void {
    const seq = this.seq++;
    const settled: Promise<void> = p
      // A rejected check (e.g. the device was lost) is itself a readable message.
      .catch((e) => String((e as Error)?.message ?? e))
      .then((msg) => {
        if (msg !== null) this.failures.push({ seq, msg });
        this.pending.delete(settled);
      });
    this.pending.add(settled);
  }

  /** Awaits every check started so far; throws the failures (oldest first) and forgets them. */
  async check(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
    if (this.failures.length) {
      // In the order the checks started: the root cause (a compile error) comes first.
      const messages = this.failures.sort((a, b) => a.seq - b.seq).map((f) => f.msg);
      this.failures = [];
      // Keep it readable: a broken kernel tends to make every later dispatch fail too.
      const shown = messages.slice(0, 5);
      if (messages.length > 5) shown.push(`... and ${messages.length - 5} more`);
      throw new GpuError(shown.join('\n'));
    }
  }
}

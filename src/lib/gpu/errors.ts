// Error scopes: WebGPU reports validation errors asynchronously, so the engine records what it was
// doing when it pushed a scope and turns a popped error into an Error that names the op.

/** Runs `fn` inside a validation error scope and throws an Error naming `what` if it failed. */
export async function withValidation<T>(device: GPUDevice, what: string, fn: () => T): Promise<T> {
  device.pushErrorScope('validation');
  let result: T;
  try {
    result = fn();
  } finally {
    const err = await device.popErrorScope();
    if (err) throw new Error(`${what}: ${err.message}`);
  }
  return result;
}

/**
 * Checks that cannot be awaited where they start (encoding stays synchronous): each is a promise of
 * an error message or null. check() awaits them all and throws the first failures together.
 */
export class DeferredErrors {
  private pending: Promise<string | null>[] = [];

  /** Pushes a validation scope; the returned function pops it and records the outcome under `what`. */
  scope(device: GPUDevice, what: string): () => void {
    device.pushErrorScope('validation');
    return () => {
      this.track(device.popErrorScope().then((e) => (e ? `${what}: ${e.message}` : null)));
    };
  }

  track(p: Promise<string | null>): void {
    // A rejected check (e.g. the device was lost) is itself a readable message.
    this.pending.push(p.catch((e) => `${String((e as Error)?.message ?? e)}`));
  }

  async check(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      const messages = (await Promise.all(batch)).filter((m): m is string => m !== null);
      if (messages.length) {
        // Keep it readable: a broken kernel tends to make every later dispatch fail too.
        const shown = messages.slice(0, 5);
        if (messages.length > 5) shown.push(`... and ${messages.length - 5} more`);
        throw new Error(shown.join('\n'));
      }
    }
  }
}

// Counts of the GPU calls whose number per training step matters more than any one timing: how many
// dispatches a step encodes, how many bind groups it creates, how many error scopes it pushes, how
// many command buffers it submits and how many bytes it writes from the host (queue.writeBuffer).
// The GPU layer increments them where it makes those calls; tests and `npm run bench` read them.

export interface CountSnapshot {
  dispatches: number;
  bindGroups: number;
  errorScopes: number;
  commandBuffers: number;
  bytesWritten: number;
}

export class GpuCounters implements CountSnapshot {
  dispatches = 0;
  bindGroups = 0;
  errorScopes = 0;
  commandBuffers = 0;
  bytesWritten = 0;

  snapshot(): CountSnapshot {
    const { dispatches, bindGroups, errorScopes, commandBuffers, bytesWritten } = this;
    return { dispatches, bindGroups, errorScopes, commandBuffers, bytesWritten };
  }

  /** What was counted since `before` (a snapshot()). */
  since(before: CountSnapshot): CountSnapshot {
    return {
      dispatches: this.dispatches - before.dispatches,
      bindGroups: this.bindGroups - before.bindGroups,
      errorScopes: this.errorScopes - before.errorScopes,
      commandBuffers: this.commandBuffers - before.commandBuffers,
      bytesWritten: this.bytesWritten - before.bytesWritten,
    };
  }
}

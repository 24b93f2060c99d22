// Where a training step's time goes: the dispatches of one steady-state step (gpu.trace) replayed one
// kind at a time, each dispatch in a command buffer of its own, timed by the bench clock (GPU
// timestamps where the adapter has timestamp-query, else wall-clock to onSubmittedWorkDone). Grouped
// by kernel and its pipeline overrides (tile shape, head-size class), largest first.
import { Recorder, type Dispatch, type Gpu } from '../src/lib/gpu/index.ts';

export interface KernelTime {
  kernel: string;
  dispatches: number;
  /** the sum of each dispatch's fastest sample */
  ms: number;
  /** of the summed time of every kernel */
  share: number;
}

export interface StepBreakdown {
  method: 'timestamp-query' | 'wall-clock';
  /** sum over every dispatch of the step, each run alone */
  total_ms: number;
  kernels: KernelTime[];
}

/** The dispatches `work` records (it must record and submit them before it first awaits). */
export async function traceDispatches(gpu: Gpu, work: () => Promise<unknown>): Promise<Dispatch[]> {
  const seen: Dispatch[] = [];
  gpu.trace = (d) => seen.push(d);
  try {
    await work();
  } finally {
    gpu.trace = null;
  }
  return seen;
}

/**
 * Times each dispatch alone (`samples` times, the fastest kept; a run repeats it `repeat` times in
 * one command buffer so a short kernel outlasts the clock's resolution).
 */
export async function breakDown(
  gpu: Gpu,
  dispatches: Dispatch[],
  time: (work: () => void) => Promise<{ wallMs: number; gpuMs: number | null }>,
  method: StepBreakdown['method'],
  opts: { samples?: number; repeat?: number } = {},
): Promise<StepBreakdown> {
  const samples = opts.samples ?? 2;
  const repeat = opts.repeat ?? 3;
  const byKernel = new Map<string, { dispatches: number; ms: number }>();
  for (const d of dispatches) {
    let best = Infinity;
    for (let i = 0; i < samples; i++) {
      const t = await time(() => {
        const rec = new Recorder(gpu, `breakdown ${d.kernel.name}`);
        for (let r = 0; r < repeat; r++) rec.dispatch(d);
        rec.submit();
      });
      best = Math.min(best, (t.gpuMs ?? t.wallMs) / repeat);
    }
    const key = d.kernel.name + (d.overrides ? ' ' + JSON.stringify(d.overrides) : '');
    const k = byKernel.get(key) ?? { dispatches: 0, ms: 0 };
    k.dispatches++;
    k.ms += best;
    byKernel.set(key, k);
  }
  const total = [...byKernel.values()].reduce((s, k) => s + k.ms, 0);
  const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
  const kernels = [...byKernel.entries()]
    .map(([kernel, k]) => ({ kernel, dispatches: k.dispatches, ms: round(k.ms, 2), share: round(k.ms / total, 4) }))
    .sort((a, b) => b.ms - a.ms);
  return { method, total_ms: round(total, 1), kernels };
}

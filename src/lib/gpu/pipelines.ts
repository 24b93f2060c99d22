// Pipeline cache: one GPUComputePipeline per (op, entry point, override constants) — never per
// shape, since shapes arrive in the uniform Params struct. Compile errors name the .wgsl file and
// line:col; validation errors name the op.
import { GpuCounters } from './counters.ts';
import { DeferredErrors, GpuError } from './errors.ts';

/** One WGSL entry point, as an op wrapper declares it next to its `?raw` import. */
export interface Kernel {
  /** Op and pass, used in labels and error messages, e.g. 'matmul_forward'. */
  name: string;
  /** The .wgsl file the source came from (repository path), for error messages. */
  file: string;
  /** The WGSL source (a `?raw` import). */
  code: string;
  /** Defaults to 'main'. */
  entryPoint?: string;
}

/** Values for the shader's `override` constants (workgroup and tile sizes, feature switches). */
export type Overrides = Record<string, number>;

/** "file:line:col: error: message" for each error/warning, with the offending source line. */
function formatCompilationMessages(kernel: Kernel, messages: readonly GPUCompilationMessage[]): string {
  const lines = kernel.code.split('\n');
  return messages
    .map((m) => {
      const src = m.lineNum > 0 ? lines[m.lineNum - 1] : undefined;
      const caret = src !== undefined ? `\n    ${src}\n    ${' '.repeat(Math.max(0, m.linePos - 1))}^` : '';
      return `${kernel.file}:${m.lineNum}:${m.linePos}: ${m.type}: ${m.message}${caret}`;
    })
    .join('\n');
}

function overridesKey(o: Overrides | undefined): string {
  if (!o) return '';
  return Object.keys(o)
    .sort()
    .map((k) => `${k}=${o[k]}`)
    .join(',');
}

export class PipelineCache {
  /** What the GPU layer counts on this device (Gpu.counters). */
  readonly counters = new GpuCounters();
  readonly errors = new DeferredErrors(this.counters);
  private modules = new Map<string, GPUShaderModule>();
  private pipelines = new Map<string, GPUComputePipeline>();

  constructor(readonly device: GPUDevice) {}

  /** Number of distinct pipelines created so far (tests use it to check shapes are not keys). */
  get size(): number {
    return this.pipelines.size;
  }

  private key(kernel: Kernel, overrides?: Overrides): string {
    return `${kernel.name}|${kernel.entryPoint ?? 'main'}|${overridesKey(overrides)}`;
  }

  private async compilationError(kernel: Kernel, m: GPUShaderModule): Promise<string | null> {
    const info = await m.getCompilationInfo();
    const errs = info.messages.filter((msg) => msg.type === 'error');
    if (!errs.length) return null;
    return `WGSL compile error in ${kernel.name}:\n${formatCompilationMessages(kernel, errs)}`;
  }

  /**
   * The shader module, created once per kernel. Its problems come back as one message: the
   * compilation info (file:line:col) when the WGSL does not compile, else any validation error.
   */
  private module(kernel: Kernel): { module: GPUShaderModule; problem: Promise<string | null> | null } {
    const key = `${kernel.file}|${kernel.name}`;
    const cached = this.modules.get(key);
    if (cached) return { module: cached, problem: null };
    this.device.pushErrorScope('validation');
    this.counters.errorScopes++;
    const m = this.device.createShaderModule({ label: `${kernel.name} (${kernel.file})`, code: kernel.code });
    const scope = this.device.popErrorScope();
    this.modules.set(key, m);
    const problem = (async () => {
      const compileError = await this.compilationError(kernel, m);
      const validation = await scope;
      if (compileError) return compileError;
      return validation ? `${kernel.name} (${kernel.file}): ${validation.message}` : null;
    })();
    return { module: m, problem };
  }

  /**
   * The pipeline for this kernel and overrides, created synchronously on first use (so encoding a
   * step never awaits). Compile and validation problems are checked later: gpu.checkErrors().
   */
  get(kernel: Kernel, overrides?: Overrides): GPUComputePipeline {
    const key = this.key(kernel, overrides);
    let p = this.pipelines.get(key);
    if (p) return p;
    const { module: m, problem } = this.module(kernel);
    if (problem) this.errors.track(problem);
    const pop = this.errors.scope(this.device, `creating pipeline ${kernel.name} (${kernel.file})`);
    p = this.device.createComputePipeline({
      label: `${kernel.name} (${kernel.file})`,
      layout: 'auto',
      compute: { module: m, entryPoint: kernel.entryPoint ?? 'main', constants: overrides },
    });
    pop();
    this.pipelines.set(key, p);
    return p;
  }

  /**
   * Compiles up front and throws right here if the WGSL does not compile (with file:line:col) or
   * the pipeline is invalid. Use it to warm the cache before a training step.
   */
  async compile(kernel: Kernel, overrides?: Overrides): Promise<GPUComputePipeline> {
    const key = this.key(kernel, overrides);
    const cached = this.pipelines.get(key);
    if (cached) return cached;
    const { module: m, problem } = this.module(kernel);
    const err = await problem;
    if (err) throw new GpuError(err);
    try {
      const p = await this.device.createComputePipelineAsync({
        label: `${kernel.name} (${kernel.file})`,
        layout: 'auto',
        compute: { module: m, entryPoint: kernel.entryPoint ?? 'main', constants: overrides },
      });
      this.pipelines.set(key, p);
      return p;
    } catch (e) {
      throw new GpuError(`creating pipeline ${kernel.name} (${kernel.file}): ${String((e as Error)?.message ?? e)}`);
    }
  }

  checkErrors(): Promise<void> {
    return this.errors.check();
  }
}

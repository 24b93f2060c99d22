// `lora-playground models --json`: the picker's before-download check from the command line, one run.
import { describe, expect, it } from 'vitest';
import { runCli } from './run.ts';

describe('lora-playground models', () => {
  it('lists every catalog model; at batch 16 × 512 a Qwen3-0.6B run is refused with settings that fit (the model itself loads), the shipped model fits', async () => {
    const r = await runCli(['models', '--batch', '16', '--max-length', '512', '--json']);
    expect(r.code).toBe(0);
    const result = r.result() as unknown as {
      batch: number;
      maxLength: number;
      models: { id: string; onnx: string; params: number; loads: boolean; fits: boolean; refusal: string | null; memory: { total: number }; wouldFit: { batch: number; maxLength: number; bytes: number } | null }[];
    };
    expect(result).toMatchObject({ event: 'result', command: 'models', batch: 16, maxLength: 512 });
    const byId = new Map(result.models.map((m) => [m.id, m]));
    expect([...byId.keys()]).toContain('Qwen/Qwen2.5-0.5B-Instruct');
    expect(byId.get('brown-llama-4m')).toMatchObject({ loads: true, fits: true, refusal: null, wouldFit: null });
    const qwen3 = byId.get('Qwen/Qwen3-0.6B')!;
    expect(qwen3).toMatchObject({ onnx: 'onnx-community/Qwen3-0.6B-ONNX', params: 596_049_920, loads: true, fits: false });
    expect(qwen3.memory.total).toBeGreaterThan(4 * 1024 ** 3);
    expect(qwen3.refusal).toMatch(/^A LoRA run of Qwen3 0\.6B at these settings needs .* more than the 4,096 MiB of GPU memory a run may use/);
    expect(qwen3.wouldFit!.batch * qwen3.wouldFit!.maxLength).toBeLessThan(16 * 512);
    expect(qwen3.wouldFit!.bytes).toBeLessThanOrEqual(4 * 1024 ** 3);
  });
});

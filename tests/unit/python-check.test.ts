// tests/python/check_adapter.py is the independent (numpy, float64) rebuild of tuned logits that the
// PEFT export test trusts; here it must first reproduce PyTorch's base logits from the shipped weights.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('the numpy rebuild reproduces the PyTorch fixture logits of the default model', () => {
  const script = join(__dirname, '../python/check_adapter.py');
  const out = execFileSync('python3', [script, '--selftest'], { encoding: 'utf8' });
  const result = JSON.parse(out.trim().split('\n').pop()!);
  expect(result.check).toBe('selftest');
  expect(result.max_abs_error).toBeLessThan(1e-4);
}, 120_000);

// Fuzzing the page's URL options (ui/url-options.ts parsePageOptions, and the test hooks' numbers in
// ui/train/run.ts debugStep): any query string must give options the page can act on — a model it can
// name, a known backend, an http(s) hub or none — with every ignored parameter explained in a bounded
// warning, never an exception.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findModel, isHubModelId } from '../../src/lib/base/catalog';
import { debugFaults, debugStep } from '../../src/ui/train/run';
import { parsePageOptions } from '../../src/ui/url-options';
import { fuzzCase, params } from './harness';

const KEYS = ['model', 'backend', 'hub', 'dtype', 'autoload', 'debug-lose-device', 'debug-nan-after', 'debug-gpu-fault'];
const value = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom('wasm', 'webgpu', 'auto', 'q8', 'fp16', '0', '1', '-3', '2.5', '1e3', 'javascript:alert(1)', 'http://127.0.0.1:1/', 'owner/name', '../../x', 'a/b/c', '<img src=x>', 'import:validation,generate:lose-device', 'evaluate:x,:,parity:lose-device,'),
  fc.webUrl(),
  fc.string({ maxLength: 4 }).map((s) => s.repeat(2000)),
);
const search = fc.oneof(
  fc.array(fc.tuple(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 8 })), value), { maxLength: 8 }).map((pairs) => `?${new URLSearchParams(pairs).toString()}`),
  fc.array(fc.tuple(fc.constantFrom(...KEYS), fc.string({ maxLength: 20 })), { maxLength: 6 }).map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`),
  fc.webQueryParameters().map((q) => `?${q}`),
  fc.string({ maxLength: 200 }),
);

describe('URL options under fuzzing: options the page can act on, with bounded warnings, within the budget', () => {
  it('any query string', async () => {
    await fc.assert(
      fc.asyncProperty(search, async (q) => {
        const r = await fuzzCase('URL options', q.length, () => parsePageOptions(q), []);
        if (!r.ok) return;
        const o = r.value;
        expect(findModel(o.model.id) !== undefined || (o.model.source === 'hub' && isHubModelId(o.model.id))).toBe(true);
        expect(['auto', 'webgpu', 'wasm']).toContain(o.backend);
        if (o.hubHost !== undefined) expect(o.hubHost).toMatch(/^https?:\/\/.*\/$/);
        for (const w of o.warnings) expect(w.length).toBeLessThanOrEqual(400);
        for (const f of debugFaults(q)) {
          expect(['import', 'generate', 'evaluate', 'parity']).toContain(f.at);
          expect(['validation', 'lose-device']).toContain(f.how);
        }
        for (const name of ['debug-lose-device', 'debug-nan-after'] as const) {
          const n = debugStep(q, name);
          if (n !== undefined) expect(Number.isInteger(n) && n > 0).toBe(true);
        }
      }),
      params(1500),
    );
  });
});

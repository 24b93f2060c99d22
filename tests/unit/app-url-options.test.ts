import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_ID } from '../../src/lib/base/catalog.ts';
import { parsePageOptions } from '../../src/ui/url-options.ts';

describe('parsePageOptions', () => {
  it('opens the shipped default model on auto backend when the URL says nothing', () => {
    const o = parsePageOptions('');
    expect(o.model.id).toBe(DEFAULT_MODEL_ID);
    expect(o.model.source).toBe('shipped');
    expect(o.backend).toBe('auto');
    expect(o.hubHost).toBeUndefined();
    expect(o.autoload).toBe(true);
    expect(o.warnings).toEqual([]);
  });

  it('takes a catalog model, a forced backend and autoload=0', () => {
    const o = parsePageOptions('?model=HuggingFaceTB/SmolLM2-135M-Instruct&backend=wasm&autoload=0');
    expect(o.model.id).toBe('HuggingFaceTB/SmolLM2-135M-Instruct');
    expect(o.model.source).toBe('hub');
    expect(o.model.chat).toBe(true);
    expect(o.backend).toBe('wasm');
    expect(o.autoload).toBe(false);
  });

  it('takes any Hugging Face repo id with a dtype, and a hub mirror', () => {
    const o = parsePageOptions('?model=someone/tiny-llama&dtype=q8&hub=http://127.0.0.1:9000');
    expect(o.model).toEqual({ id: 'someone/tiny-llama', source: 'hub', dtype: { webgpu: 'q8', wasm: 'q8' }, chat: false });
    expect(o.hubHost).toBe('http://127.0.0.1:9000/');
  });

  it('explains and ignores parameters it cannot use', () => {
    const o = parsePageOptions('?model=../../etc&backend=cuda&hub=javascript:alert(1)&dtype=int3');
    expect(o.model.id).toBe(DEFAULT_MODEL_ID);
    expect(o.backend).toBe('auto');
    expect(o.hubHost).toBeUndefined();
    expect(o.warnings).toHaveLength(4);
    expect(o.warnings.join('\n')).toMatch(/model=\.\.\/\.\.\/etc/);
    expect(o.warnings.join('\n')).toMatch(/backend=cuda/);
    expect(o.warnings.join('\n')).toMatch(/hub=javascript/);
    expect(o.warnings.join('\n')).toMatch(/dtype=int3/);
  });
});

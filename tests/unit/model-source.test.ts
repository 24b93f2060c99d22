// One place sets where transformers.js reads a model from (src/lib/base/model-source.ts): a local
// models folder with no network and no cache, or a hub host. And the prompt as generation feeds it.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { env } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { configureModelSource, loadModelTokenizer, renderPrompt } from '../../src/lib/base/model-source.ts';
import { startHubServer } from '../e2e/hub-server.ts';

const MODELS = join(import.meta.dirname, '../../models');
const greedy: { prompt: string; input_ids: number[] }[] = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/greedy.json'), 'utf8'));

describe('configureModelSource', () => {
  it('a local folder: local files only, no caches', async () => {
    await configureModelSource('hub', { localModels: MODELS, cacheDir: '/tmp/x' }); // something to undo
    await configureModelSource('shipped', { localModels: MODELS });
    expect(env.allowLocalModels).toBe(true);
    expect(env.allowRemoteModels).toBe(false);
    expect(env.localModelPath).toBe(MODELS + '/');
    expect(env.useBrowserCache).toBe(false);
    expect(env.useFSCache).toBe(false);
  });

  it('a hub: remote files only, from the host given (Hugging Face by default), cached in a folder only when given one', async () => {
    await configureModelSource('hub', { localModels: MODELS, hubHost: 'http://mirror.example/hf' });
    expect(env.allowLocalModels).toBe(false);
    expect(env.allowRemoteModels).toBe(true);
    expect(env.remoteHost).toBe('http://mirror.example/hf/');
    expect(env.useFSCache).toBe(false);
    expect(env.useBrowserCache).toBe(typeof caches !== 'undefined');
    await configureModelSource('hub', { localModels: MODELS, cacheDir: '/tmp/hub-cache', cacheHub: false });
    expect(env.remoteHost).toBe('https://huggingface.co/');
    expect(env.useFSCache).toBe(true);
    expect(env.cacheDir).toBe('/tmp/hub-cache');
    expect(env.useBrowserCache).toBe(false);
  });
});

describe('loadModelTokenizer and renderPrompt', () => {
  it('loads a model folder given as its parent and its name', async () => {
    const t = await loadModelTokenizer({ id: 'brown-llama-4m', source: 'shipped' }, { localModels: MODELS });
    const config = JSON.parse(readFileSync(join(MODELS, 'brown-llama-4m/config.json'), 'utf8'));
    expect(t.modelId).toBe('brown-llama-4m');
    expect(t.config.vocabSize).toBe(config.vocab_size);
    expect(t.chatTemplate).not.toBeNull();
    // A plain prompt is the text as typed: the ids PyTorch's fixture was made from.
    for (const c of greedy) expect(renderPrompt(t, c.prompt, false)).toEqual({ rendered: c.prompt, ids: c.input_ids, chat: false });
    // A chat prompt is one user turn and the generation prompt; the template writes its special tokens.
    const chat = renderPrompt(t, 'Hi', true);
    expect(chat.rendered).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    expect(chat.chat).toBe(true);
    expect(chat.ids).toEqual(t.hf.encode(chat.rendered, { add_special_tokens: false }));
    expect(t.hf.decode(chat.ids, { skip_special_tokens: false })).toBe(chat.rendered);
  });

  it('without a chat template, --chat leaves the prompt as typed', () => {
    const t = { hf: { encode: (s: string) => [...s].map((ch) => ch.charCodeAt(0)) } as never, chatTemplate: null };
    expect(renderPrompt(t, 'ab', true)).toEqual({ rendered: 'ab', ids: [97, 98], chat: false });
  });

  it('loads the same tokenizer from a hub host', async () => {
    const hub = await startHubServer('org/brown', join(MODELS, 'brown-llama-4m'));
    try {
      const t = await loadModelTokenizer({ id: 'org/brown', source: 'hub' }, { localModels: MODELS, hubHost: hub.url, cacheHub: false });
      expect(renderPrompt(t, greedy[0].prompt, false).ids).toEqual(greedy[0].input_ids);
      expect(hub.requests.some((r) => r.endsWith('/org/brown/resolve/main/tokenizer.json'))).toBe(true);
    } finally {
      await hub.close();
    }
  });
});

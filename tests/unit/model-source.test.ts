// One place sets where transformers.js reads a model from (src/lib/base/model-source.ts): a local
// models folder with no network and no cache, or a hub host. And the prompt as generation feeds it.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { env } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import {
  checkHubModel,
  configureModelSource,
  explainHubFailure,
  HubModelError,
  type HubNetwork,
  loadModelTokenizer,
  renderPrompt,
} from '../../src/lib/base/model-source.ts';
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

describe('a hub model that cannot be loaded says what was tried, why it failed and what to do', () => {
  /** A network whose fetch answers as `answer` says: a status, or a TypeError (no answer) for the file and/or the host. */
  const network = (answer: { file: number | 'no answer'; host?: 'answers' | 'no answer'; online?: boolean }): HubNetwork => ({
    online: () => answer.online,
    fetch: async (input, init) => {
      const opaque = (init as RequestInit | undefined)?.mode === 'no-cors';
      const what = opaque ? (answer.host ?? 'no answer') : answer.file;
      if (what === 'no answer') throw new TypeError('Failed to fetch');
      if (what === 'answers') return new Response(null, { status: 200 });
      return new Response('x', { status: what });
    },
  });
  const said = async (p: Promise<unknown>) => {
    const e = await p.then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(HubModelError);
    return (e as Error).message;
  };
  const URL_ = 'https://huggingface.co/does/not-exist/resolve/main/config.json';

  it('not on the Hub (404), from a hub stand-in', async () => {
    const hub = await startHubServer('test-org/brown-llama-4m', join(MODELS, 'brown-llama-4m'));
    try {
      await expect(checkHubModel('test-org/brown-llama-4m', hub.url)).resolves.toBeUndefined();
      expect(await said(checkHubModel('does/not-exist', hub.url))).toBe(
        `does/not-exist was not found on ${hub.url} (${hub.url}does/not-exist/resolve/main/config.json answered 404 Not Found). Check the repo id: owner/name, as on the model's page, such as HuggingFaceTB/SmolLM2-135M-Instruct.`,
      );
      // The page's tokenizer load says the same, instead of transformers.js's "Could not locate file".
      const spec = { id: 'does/not-exist', source: 'hub' as const, dtype: { webgpu: 'fp32' as const, wasm: 'fp32' as const }, chat: false };
      expect(await said(loadModelTokenizer(spec, { localModels: MODELS, hubHost: hub.url }))).toMatch(/^does\/not-exist was not found on /);
    } finally {
      await hub.close();
    }
  });

  it('private, gated or missing (401/403), and a hub in trouble (5xx)', async () => {
    expect(await said(checkHubModel('does/not-exist', undefined, network({ file: 401 })))).toBe(
      `the Hugging Face Hub refused ${URL_} (HTTP 401): does/not-exist does not exist, or it is private or gated, and this page does not sign in to the Hub. Check the repo id, or pick a public model.`,
    );
    expect(await said(checkHubModel('does/not-exist', undefined, network({ file: 503 })))).toMatch(/^the Hugging Face Hub answered HTTP 503 for .*: the hub is having trouble\. Try again later/);
  });

  it('no network: the browser says it is offline', async () => {
    expect(await said(checkHubModel('does/not-exist', undefined, network({ file: 'no answer', online: false })))).toBe(
      `Could not fetch ${URL_}: there is no network (the browser says it is offline). Connect, then load again, or pick a model that ships with the app, which needs no network.`,
    );
  });

  it('a model the browser keeps from an earlier visit needs no network: offline, the check passes', async () => {
    const asked: string[] = [];
    const offline = { ...network({ file: 'no answer', online: false }), cached: async (url: string) => (asked.push(url), true) };
    await expect(checkHubModel('does/not-exist', undefined, offline)).resolves.toBeUndefined();
    expect(asked).toEqual([URL_]);
    // Not kept: the offline message as before.
    const notKept = { ...offline, cached: async () => false };
    expect(await said(checkHubModel('does/not-exist', undefined, notKept))).toMatch(/^Could not fetch .*: there is no network/);
  });

  it('blocked by the browser: the host answers an opaque request, but the download failed', async () => {
    expect(await said(checkHubModel('does/not-exist', undefined, network({ file: 'no answer', host: 'answers', online: true })))).toMatch(
      /^huggingface\.co answered, but the browser blocked the download of .*config\.json \(its CORS headers, a content blocker or privacy extension, or a site policy\)\. Allow huggingface\.co for this page/,
    );
  });

  it('unreachable: neither the file nor the host answers', async () => {
    expect(await said(checkHubModel('does/not-exist', undefined, network({ file: 'no answer', host: 'no answer', online: true })))).toMatch(
      /^Could not reach huggingface\.co for .*: no network, or the host is down, or the browser \(an extension or a policy\) blocked it\./,
    );
    // Node names the reason itself: here, a port nothing listens on.
    const closed = await new Promise<number>((ok) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => ok(port));
      });
    });
    expect(await said(checkHubModel('does/not-exist', `http://127.0.0.1:${closed}/`))).toMatch(new RegExp(`^Could not reach 127\\.0\\.0\\.1:${closed} for .* \\(ECONNREFUSED\\)`));
  });

  it('a repo without the ONNX file transformers.js asked for', async () => {
    const e = await explainHubFailure(new Error('Could not locate file: "https://huggingface.co/some/repo/resolve/main/onnx/model.onnx".'), 'some/repo', undefined);
    expect((e as Error).message).toBe(
      'some/repo on the Hugging Face Hub has no onnx/model.onnx (404 Not Found at https://huggingface.co/some/repo/resolve/main/onnx/model.onnx). This page runs models exported to ONNX for transformers.js (an onnx/ folder); pick another repo or another weights type.',
    );
    const other = new Error('something else');
    expect(await explainHubFailure(other, 'some/repo', undefined)).toBe(other);
  });
});

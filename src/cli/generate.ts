// `lora-playground generate`: the page's generation with the engine — the prompt rendered as the page
// renders it, the one seeded sampler, the adapter imported through peft/ — streamed to stdout.

import { renderPrompt } from '../lib/base/model-source.ts';
import { DEFAULT_SAMPLING, SAMPLING_LIMITS } from '../lib/generate/sampling.ts';
import type { Command, Parsed } from './args.ts';
import { attachAdapter, InputError, loadModel } from './model.ts';
import type { Reporter } from './output.ts';

const L = SAMPLING_LIMITS;
const flags = {
  model: { kind: 'string', value: 'DIR', required: true, help: 'model folder in the Hugging Face layout (config.json, model.safetensors, tokenizer.json)' },
  adapter: { kind: 'string', value: 'DIR', help: 'PEFT adapter to attach: a folder with adapter_config.json + adapter_model.safetensors, or their .zip' },
  prompt: { kind: 'string', value: 'TEXT', required: true, help: 'what the model continues' },
  chat: { kind: 'boolean', help: "wrap the prompt in the model's chat template as one user turn" },
  maxNewTokens: { kind: 'int', help: 'stop after this many new tokens', default: DEFAULT_SAMPLING.maxNewTokens, ...L.maxNewTokens },
  temperature: { kind: 'number', help: '0 is greedy', default: DEFAULT_SAMPLING.temperature, ...L.temperature },
  topK: { kind: 'int', help: 'keep the k most likely tokens; 0 keeps all', default: DEFAULT_SAMPLING.topK, ...L.topK },
  topP: { kind: 'number', help: 'keep the most likely tokens up to this probability', default: DEFAULT_SAMPLING.topP, ...L.topP },
  seed: { kind: 'int', help: 'the same seed gives the same text', default: DEFAULT_SAMPLING.seed, ...L.seed },
} as const;

export const generateCommand: Command<typeof flags> = {
  name: 'generate',
  summary: 'generate text with the engine, with or without an adapter',
  description:
    'The text streams to stdout; what is being loaded, and the speed, go to stderr. With --json every token is a\n' +
    '{"event":"token","index","id","text"} line and the last line is {"event":"result","text","tokenIds","stopReason",…}.',
  flags,
  examples: [
    'lora-playground generate --model models/brown-llama-4m --prompt "The jury said that the"',
    'lora-playground generate --model models/brown-llama-4m --adapter my-adapter/ --prompt "Hi" --chat --temperature 0',
  ],
};

export async function runGenerate(args: Parsed<typeof flags>, out: Reporter, signal: AbortSignal): Promise<void> {
  const model = await loadModel(args.model, out);
  try {
    const method = args.adapter ? await attachAdapter(model, args.adapter, out) : null;
    const prompt = renderPrompt(model.tokenizer, args.prompt, args.chat);
    if (args.chat && !prompt.chat) out.warning(`${model.id} has no chat template: the prompt is used as it is`);
    if (prompt.ids.length === 0) throw new InputError('the prompt is empty: give the model something to continue');
    const sampling = { temperature: args.temperature, topK: args.topK, topP: args.topP, seed: args.seed };
    out.status('generate', `Generating with ${model.id}${method ? ` + ${args.adapter}` : ''}…`);
    // As the worker's engine generation: the page's streamed decoder, given up if the device is lost.
    const r = await model.engine.generateText(
      prompt,
      { maxNewTokens: args.maxNewTokens, sampling, signal },
      (ids) => model.tokenizer.hf.decode(ids, { skip_special_tokens: true }),
      (t) => out.token(t.index, t.id, t.text),
    );
    out.result(
      'generate',
      {
        model: model.id,
        adapter: args.adapter ?? null,
        peftType: method?.peft_type ?? null,
        renderedPrompt: prompt.rendered,
        promptIds: prompt.ids,
        sampling: { maxNewTokens: args.maxNewTokens, ...sampling },
        text: r.text,
        tokenIds: r.tokenIds,
        tokens: r.tokenIds.length,
        stopReason: r.stopReason,
        prefillMs: r.prefillMs,
        decodeMs: r.decodeMs,
        tokensPerSecond: r.tokensPerSecond,
      },
      { note: [`${r.tokenIds.length} tokens, ${r.tokensPerSecond.toFixed(1)} tokens/s, stopped: ${r.stopReason}`] },
    );
  } finally {
    model.destroy();
  }
}

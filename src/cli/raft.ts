// `lora-playground raft`: RAFT rounds (src/lib/rewards/raft.ts) without the page — sample K answers
// per prompt with the adapter as it stands, score them with a rule reward (--reward) or a reward
// model (--reward-model), keep the best, fine-tune on them with the one run loop, repeat. Every
// finished round is printed (a {"event":"round"} line with --json) and saved in --out: raft.json (the
// rounds so far and the settings) and the adapter after them (PEFT files), written whole or not at
// all, so --resume continues from the last finished round after a stop or a crash.

import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { defaultMethod, defaultTrainConfig } from '../lib/train/config.ts';
import { DEFAULT_SAMPLING, SAMPLING_LIMITS } from '../lib/generate/sampling.ts';
import { exportAdapter, importAdapter, readAdapterFiles } from '../lib/peft/adapter.ts';
import { hasScoreHead, type MethodConfig } from '../lib/adapters/config.ts';
import { parseRewardSpec, ruleReward, RewardSpecError } from '../lib/rewards/rules.ts';
import { parsePromptsFile } from '../lib/rewards/prompts-file.ts';
import { scoreAnswers } from '../lib/rewards/model.ts';
import { rankingReward } from '../lib/rewards/ranking.ts';
import { RAFT_DEFAULTS, raftProblems, runRaft, type RaftInput, type RaftRound, type RaftSettings, type RaftState } from '../lib/rewards/raft.ts';
import type { ExportedTensor } from '../lib/engine.ts';
import { UsageError, type Command, type Parsed } from './args.ts';
import { adapterFiles, existingFile, InputError, loadModel, type LoadedModel } from './model.ts';
import type { Reporter } from './output.ts';
import { stdinRanking } from './ranking.ts';

const L = SAMPLING_LIMITS;
const flags = {
  model: { kind: 'string', value: 'DIR', required: true, help: 'model folder in the Hugging Face layout' },
  prompts: { kind: 'string', value: 'FILE', required: true, help: 'prompts: .txt (one per line) or .jsonl ({"prompt", optional "reference"})' },
  reward: {
    kind: 'string',
    value: 'SPEC',
    help: "rule reward, e.g. 'contains:cat*1,len:10-40*0.5' (kinds: contains, notcontains, regex, len, upper, exact), or 'ranking': you rank each round's samples on stdin",
  },
  rewardModel: { kind: 'string', value: 'DIR', help: 'a reward model adapter (train --objective reward) to score with instead of a rule' },
  k: { kind: 'int', min: 1, default: RAFT_DEFAULTS.k, help: 'answers sampled per prompt each round' },
  rounds: { kind: 'int', min: 0, default: RAFT_DEFAULTS.rounds, help: 'rounds of sample → score → keep → fine-tune (one more sampling pass evaluates the last)' },
  stepsPerRound: { kind: 'int', min: 1, default: RAFT_DEFAULTS.stepsPerRound, help: 'SFT optimizer steps on the kept answers per round' },
  keep: { kind: 'string', value: 'best|SHARE', default: String(RAFT_DEFAULTS.keep), help: "'best' answer per prompt, or a share of all samples (e.g. 0.25), best first" },
  temperature: { kind: 'number', default: RAFT_DEFAULTS.sampling.temperature, ...L.temperature, help: 'sampling temperature' },
  topK: { kind: 'int', default: RAFT_DEFAULTS.sampling.topK, ...L.topK, help: 'keep the k most likely tokens; 0 keeps all' },
  topP: { kind: 'number', default: RAFT_DEFAULTS.sampling.topP, ...L.topP, help: 'nucleus sampling' },
  maxNewTokens: { kind: 'int', default: RAFT_DEFAULTS.sampling.maxNewTokens, ...L.maxNewTokens, help: 'length limit of each answer' },
  r: { kind: 'int', min: 1, help: 'LoRA rank' },
  alpha: { kind: 'number', min: 0, help: 'LoRA alpha' },
  lr: { kind: 'number', min: 0, default: RAFT_DEFAULTS.learningRate, help: 'peak learning rate of each round' },
  batch: { kind: 'int', min: 1, help: 'rows per step' },
  seqLen: { kind: 'int', min: 2, help: 'positions per row' },
  seed: { kind: 'int', min: 0, default: RAFT_DEFAULTS.seed, help: 'seeds sampling and training: the same settings give the same rounds' },
  out: { kind: 'string', value: 'DIR', required: true, help: 'folder for raft.json and the adapter after each finished round' },
  resume: { kind: 'boolean', help: 'continue the run saved in --out from its last finished round' },
} as const;

export const raftCommand: Command<typeof flags> = {
  name: 'raft',
  summary: 'RAFT rounds: sample K answers per prompt, score, keep the best, fine-tune a LoRA on them, repeat',
  description:
    'Round 0 samples with a fresh LoRA (the base model); each round then fine-tunes on its kept answers, and one\n' +
    'more sampling pass after the last round measures the result. --json prints a {"event":"round","round","mean",\n' +
    '"max","kept",…} line per round and a result with every round.\n' +
    "--reward ranking: each round prints every prompt's K samples, numbered (stderr; with --json a\n" +
    '{"event":"rank","round","k","prompts":[{"prompt","answers"}]} line) and reads one line per prompt from stdin:\n' +
    'the best sample\'s number (reward 1, the others 0) or all K numbers best first (rewards (K-1-place)/(K-1)).',
  flags,
  examples: [
    "lora-playground raft --model models/brown-llama-4m --prompts prompts.txt --reward 'contains:church' --k 4 --rounds 3 --out raft/ --json",
    'lora-playground raft --model models/brown-llama-4m --prompts prompts.txt --reward ranking --k 3 --rounds 2 --out raft/',
    'lora-playground raft --model models/brown-llama-4m --prompts prompts.jsonl --reward-model rm/ --k 8 --rounds 2 --out raft/',
  ],
};

const STATE = 'raft.json';
const WEIGHTS = 'adapter_model.safetensors';

function keepOf(v: string): RaftSettings['keep'] {
  if (v === 'best') return 'best';
  const x = Number(v);
  if (!(x > 0 && x <= 1)) throw new UsageError(`--keep must be 'best' or a share above 0 and at most 1, not ${JSON.stringify(v)}`);
  return x;
}

/** The rounds' numbers as the JSON lines and raft.json give them (samples with their rewards). */
function roundFields(r: RaftRound, prompts: RaftInput['prompts']) {
  const show = (x: RaftRound['samples'][number]) => ({ prompt: prompts[x.prompt].prompt, answer: x.answer, reward: x.reward });
  return { round: r.round, mean: r.mean, max: r.max, samples: r.samples.length, kept: r.kept.map(show), trainLoss: r.trainLoss, all: r.samples.map(show) };
}

/** Writes raft.json and the adapter into a new folder beside `out`, then swaps it in: `out` is whole. */
async function saveState(out: string, files: { name: string; data: Uint8Array | string }[]): Promise<void> {
  const target = resolve(out);
  const partial = join(dirname(target), `.${basename(target)}.partial-${process.pid}`);
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  for (const f of files) await writeFile(join(partial, f.name), f.data);
  const old = join(dirname(target), `.${basename(target)}.old-${process.pid}`);
  await rename(target, old).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
  await rename(partial, target);
  await rm(old, { recursive: true, force: true });
}

/** The state saved in --out, read back (the adapter through peft/, checked against the model). */
async function loadState(out: string, model: LoadedModel): Promise<{ settings: unknown; state: RaftState }> {
  const text = await readFile(join(out, STATE), 'utf8').catch(() => {
    throw new InputError(`--resume: ${out} holds no ${STATE} (nothing to continue; leave --resume out to start)`);
  });
  const saved = JSON.parse(text) as { settings: unknown; rounds: RaftRound[] };
  let weights: Map<string, ExportedTensor> | null = null;
  if (saved.rounds.some((r) => r.kept.length > 0)) {
    const imported = importAdapter(await readAdapterFiles(await adapterFiles('--out', out), { base: model.base }), model.base);
    weights = imported.tensors;
  }
  return { settings: saved.settings, state: { rounds: saved.rounds, weights } };
}

export async function runRaftCommand(args: Parsed<typeof flags>, out: Reporter, signal: AbortSignal): Promise<void> {
  if ((args.reward === undefined) === (args.rewardModel === undefined)) throw new UsageError('give one reward: --reward SPEC (a rule) or --reward-model DIR');
  const ranking = args.reward?.trim() === 'ranking';
  let rule = null;
  try {
    rule = args.reward !== undefined && !ranking ? parseRewardSpec(args.reward) : null;
  } catch (e) {
    if (e instanceof RewardSpecError) throw new UsageError(`--reward: ${e.message}`);
    throw e;
  }
  const promptsPath = await existingFile('--prompts', args.prompts);
  let prompts;
  try {
    prompts = parsePromptsFile(await readFile(promptsPath, 'utf8'), basename(promptsPath));
  } catch (e) {
    throw new InputError(`--prompts: ${(e as Error).message}`);
  }
  const base = defaultMethod('LORA');
  const method: MethodConfig = { ...base, r: args.r ?? base.r, lora_alpha: args.alpha ?? base.lora_alpha };
  const d = defaultTrainConfig('LORA');
  const config = { ...d, learning_rate: args.lr, per_device_train_batch_size: args.batch ?? d.per_device_train_batch_size, max_length: args.seqLen ?? d.max_length, warmup_steps: 0, seed: args.seed };
  const settings: RaftSettings = {
    k: args.k,
    rounds: args.rounds,
    stepsPerRound: args.stepsPerRound,
    keep: keepOf(args.keep),
    sampling: { temperature: args.temperature, topK: args.topK, topP: args.topP, maxNewTokens: args.maxNewTokens },
    seed: args.seed,
  };
  const problems = raftProblems({ prompts, settings });
  if (problems.length) throw new InputError(problems.join('; '), problems);
  const recorded = { method, config, settings, reward: args.reward ?? null, rewardModel: args.rewardModel ?? null, prompts: args.prompts };

  const model = await loadModel(args.model, out);
  const asker = ranking ? stdinRanking(process.stdin, out) : null;
  try {
    let resume: RaftState | null = null;
    if (args.resume) {
      const saved = await loadState(args.out, model);
      if (JSON.stringify(saved.settings) !== JSON.stringify(recorded)) {
        throw new InputError(`--resume: ${args.out} was made with other settings; give the same flags as the run it continues`);
      }
      resume = saved.state;
      out.status('resume', `Continuing after round ${resume.rounds.length - 1} of ${settings.rounds}`);
    }
    let scorer: RaftInput['reward'];
    if (asker) {
      scorer = rankingReward(asker.ask, settings.k);
    } else if (rule) {
      scorer = (items) => items.map((x) => ruleReward(rule, x.answer, x.prompt.reference ?? null));
    } else {
      const rm = importAdapter(await readAdapterFiles(await adapterFiles('--reward-model', args.rewardModel!), { base: model.base }), model.base);
      if (!hasScoreHead(rm.config.method)) throw new InputError(`--reward-model ${args.rewardModel}: this adapter has no score head: it is not a reward model`);
      // The reward model shares the engine: attached to score, replaced by the policy again for training.
      scorer = (items) => {
        model.engine.attach(rm.config.method);
        model.engine.importWeights(rm.tensors);
        return scoreAnswers(model.engine, model.tokenizer.tokenizer, items.map((x) => ({ prompt: x.prompt.prompt, answer: x.answer })), config.max_length, model.tokenizer.chatTemplate);
      };
    }
    const input: RaftInput = {
      method,
      config,
      prompts,
      settings,
      tokenizer: model.tokenizer.tokenizer,
      decode: (ids) => model.tokenizer.hf.decode(ids, { skip_special_tokens: true }),
      reward: scorer,
    };
    const result = await runRaft(model.engine, input, {
      resume,
      signal,
      onStage: (message) => out.status('raft', message),
      onTrain: (_r, u) => {
        if (u.kind === 'validation' || u.kind === 'step') return;
        out.train(u);
      },
      onRound: async (r, state) => {
        const f = roundFields(r, prompts);
        out.round(f, `round ${r.round}: mean reward ${r.mean.toFixed(4)}, max ${r.max.toFixed(4)}, kept ${r.kept.length}${r.trainLoss !== null ? `, SFT loss ${r.trainLoss.toFixed(4)}` : ''}`);
        const files: { name: string; data: Uint8Array | string }[] = [{ name: STATE, data: JSON.stringify({ settings: recorded, rounds: state.rounds }, null, 2) + '\n' }];
        if (state.weights) files.push(...exportAdapter(method as Exclude<MethodConfig, { peft_type: 'FULL' }>, state.weights, model.base).files);
        await saveState(args.out, files);
      },
    });
    const rounds = result.rounds.map((r) => ({ round: r.round, mean: r.mean, max: r.max, kept: r.kept.length, trainLoss: r.trainLoss }));
    out.result(
      'raft',
      { status: result.status, out: args.out, rounds },
      { note: [`${result.status}: ${rounds.map((r) => `round ${r.round} mean ${r.mean.toFixed(3)}`).join(', ')}`], out: [`${args.out}: ${STATE}${result.weights ? `, ${WEIGHTS}` : ''}`] },
    );
  } finally {
    asker?.close();
    model.destroy();
  }
}

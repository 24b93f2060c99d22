/// <reference lib="webworker" />
// Handlers for the RLHF loop: RAFT rounds (rewards/raft.ts, the loop `lora-playground raft` runs) on
// the engine, the policy saved as an adapter after every finished round, and the reward model's
// ratings of prompt + answer pairs (rewards/model.ts, what `lora-playground score` prints).

import { hasScoreHead, type MethodConfig } from '../adapters/config.ts';
import { fromTransformersTokenizer } from '../data/tokenize.ts';
import type { ExportedTensor } from '../engine.ts';
import { exportAdapter, importAdapter } from '../peft/adapter.ts';
import { scoreAnswers } from '../rewards/model.ts';
import { runRaft, type RaftInput, type RaftState } from '../rewards/raft.ts';
import { rankingReward, type RankChoice } from '../rewards/ranking.ts';
import { parseRewardSpec, ruleReward } from '../rewards/rules.ts';
import { getAdapterFiles, replaceAdapterFiles, saveAdapter } from '../store/adapters.ts';
import { deleteRaftRun, loadRaftRun, saveRaftRun } from '../store/raft-runs.ts';
import type { Handler, HandlerContext } from './handler.ts';
import type { RaftRequest } from './protocol.ts';
import { attachSaved, baseRuntime, liveEngine, onGpu, type EngineSession } from './session.ts';

/** The last stopped run, kept until the page reloads: Continue resumes it after its last finished round. */
let stopped: { runId: string; state: RaftState; adapterId: string | null } | null = null;

/**
 * A run to continue after a reload, from its IndexedDB record (store/raft-runs.ts): the finished rounds
 * and the policy after them, read back from the saved adapter — as `raft --resume` reads raft.json and
 * the adapter files. Null when the run has no record.
 */
async function savedRun(s: EngineSession, request: RaftRequest): Promise<{ runId: string; state: RaftState; adapterId: string | null } | null> {
  const record = await loadRaftRun<RaftRequest>(request.runId);
  if (!record) return null;
  let weights: RaftState['weights'] = null;
  if (record.rounds.some((r) => r.kept.length > 0)) {
    const files = record.adapterId ? await getAdapterFiles(record.adapterId).catch(() => null) : null;
    if (!files) throw new Error(`The adapter “${request.adapterName}” that holds this RAFT run’s policy is no longer saved (it may have been deleted): start a new run.`);
    weights = importAdapter({ config: files.configJson, weights: files.weights }, s.base).tensors;
  }
  return { runId: record.runId, state: { rounds: record.rounds, weights }, adapterId: record.adapterId };
}

/** RAFT runs (by request id) whose round waits for the user's ranking: the function that hands it over. */
const waiting = new Map<number, (choices: RankChoice[]) => void>();

/** Hands the page's ranking to the run `target`'s waiting round; false when none waits (stopped, or a stale click). */
export function deliverRanking(target: number, choices: RankChoice[]): boolean {
  const give = waiting.get(target);
  if (!give) return false;
  waiting.delete(target);
  give(choices);
  return true;
}

/** A saved reward model, read and checked (it must carry the score head). */
async function readRewardModel(s: EngineSession, adapterId: string): Promise<{ method: MethodConfig; tensors: Map<string, ExportedTensor> }> {
  const files = await getAdapterFiles(adapterId).catch(() => {
    throw new Error('The reward model is no longer saved (it may have been deleted): pick another.');
  });
  const imported = importAdapter({ config: files.configJson, weights: files.weights }, s.base);
  if (!hasScoreHead(imported.config.method)) throw new Error('This adapter has no score head: it is a language model’s adapter, not a reward model (train one with the reward objective).');
  return { method: imported.config.method, tensors: imported.tensors };
}

/** The reward the request names, as RAFT's scorer. A reward model shares the engine with the policy. */
async function scorer(s: EngineSession, request: RaftRequest, id: number, emit: HandlerContext['emit']): Promise<RaftInput['reward']> {
  if (request.reward.kind === 'ranking') {
    // the round's samples go to the page, which answers with a raftRanking request (deliverRanking);
    // a stop aborts the wait (rankingReward ends it) and drops the entry
    return rankingReward(
      (question, signal) =>
        new Promise<RankChoice[]>((resolve) => {
          waiting.set(id, resolve);
          signal?.addEventListener('abort', () => waiting.delete(id), { once: true });
          emit({ type: 'raftRank', question });
        }),
      request.settings.k,
    );
  }
  if (request.reward.kind === 'rule') {
    const rule = parseRewardSpec(request.reward.spec);
    return (items) => items.map((x) => ruleReward(rule, x.answer, x.prompt.reference ?? null));
  }
  const rm = await readRewardModel(s, request.reward.adapterId);
  const runtime = baseRuntime();
  const tok = fromTransformersTokenizer(runtime.prompts.hf);
  // attached to score; runRaft attaches the policy again at the start of every round
  return (items) => {
    s.engine.attach(rm.method);
    s.engine.importWeights(rm.tensors);
    const pairs = items.map((x) => ({ prompt: x.prompt.prompt, answer: x.answer }));
    return scoreAnswers(s.engine, tok, pairs, request.config.max_length, runtime.prompts.chatTemplate);
  };
}

export const raft: Handler<'raft'> = async (request, context) => {
  const { emit, signal } = context;
  const s = await liveEngine(context);
  const resume = !request.resume ? null : stopped?.runId === request.runId ? stopped : await savedRun(s, request);
  if (request.resume && !resume) throw new Error('This RAFT run can no longer be continued (another run replaced it): start a new run.');
  stopped = null;
  const method = request.method;
  if (method.peft_type === 'FULL') throw new Error('RAFT fine-tunes an adapter: pick LoRA, a bottleneck adapter or prefix tuning');
  const runtime = baseRuntime();
  const input: RaftInput = {
    method,
    config: request.config,
    prompts: request.prompts,
    settings: request.settings,
    tokenizer: fromTransformersTokenizer(runtime.prompts.hf),
    decode: (ids) => runtime.decode(ids),
    reward: await scorer(s, request, request.id, emit),
  };
  let adapterId = resume?.adapterId ?? null;
  // the run's record for a reload: written now (a new run replaces an older one) and after every round
  const { runId, config, prompts, settings, reward, adapterName } = request;
  const record = { runId, request: { runId, method, config, prompts, settings, reward, adapterName, resume: false } satisfies RaftRequest };
  // Storage that fails (no IndexedDB, a full quota) costs only the resume after a reload: the run goes on.
  const saveRecord = (rounds: RaftState['rounds']) =>
    saveRaftRun({ ...record, savedAt: Date.now(), rounds, adapterId }).catch((e: unknown) =>
      emit({ type: 'status', stage: 'raft', message: `This RAFT run cannot be kept for a reload (${(e as Error).message}); it goes on.` }),
    );
  await saveRecord(resume?.state.rounds ?? []);
  s.attachedKey = null; // the loop attaches its own weights
  const result = await onGpu('The RAFT run', s, () =>
    runRaft(s.engine, input, {
      resume: resume?.state ?? null,
      signal,
      onStage: (message) => emit({ type: 'status', stage: 'raft', message }),
      onTrain: (_round, update) => emit({ type: 'train', update }),
      onRound: async (round, state) => {
        if (round.kept.length > 0 && state.weights) {
          const exported = exportAdapter(method, state.weights, s.base);
          const saved = {
            name: request.adapterName,
            configJson: exported.configJson,
            weights: exported.weights,
            source: 'trained' as const,
            training: { steps: state.rounds.filter((r) => r.kept.length > 0).length * request.settings.stepsPerRound, trainLoss: round.trainLoss, valLoss: null, dataset: `RAFT, ${state.rounds.length} rounds` },
          };
          adapterId = (adapterId ? await replaceAdapterFiles(adapterId, saved) : await saveAdapter(saved)).id;
        }
        await saveRecord(state.rounds);
        emit({ type: 'raftRound', round, adapterId });
      },
    }),
  ).finally(() => (s.attachedKey = null));
  if (result.status === 'finished') await deleteRaftRun(request.runId).catch(() => undefined);
  if (result.status === 'stopped') stopped = { runId: request.runId, state: { rounds: result.rounds, weights: result.weights }, adapterId };
  return { status: result.status, rounds: result.rounds.length, adapterId };
};

export const score: Handler<'score'> = async (request, context) => {
  const s = await liveEngine(context);
  if (request.items.some((x) => x.answer.trim() === '')) throw new Error('an answer is empty: give the text to rate');
  const runtime = baseRuntime();
  await readRewardModel(s, request.adapterId); // says plainly when the adapter is not a reward model
  return onGpu('Scoring', s, async () => {
    await attachSaved(s, request.adapterId);
    const rewards = await scoreAnswers(s.engine, fromTransformersTokenizer(runtime.prompts.hf), request.items, request.seqLen, runtime.prompts.chatTemplate);
    return { rewards };
  });
};

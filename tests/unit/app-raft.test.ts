// The RLHF screens' state classes driven without a worker: the RAFT panel turns its fields into one
// `raft` request (the settings rewards/raft.ts runs), collects the rounds the worker reports, stops
// and continues the same run; the score box sends a `score` request; the dataset gives its prompts;
// the objective picker offers the reward model.

import { describe, expect, it } from 'vitest';
import type { Example } from '../../src/lib/data/formats.ts';
import { RAFT_DEFAULTS, type RaftRound } from '../../src/lib/rewards/raft.ts';
import type { EngineClient, Task } from '../../src/lib/worker/client.ts';
import type { RaftRequest, RequestKind, Requests, WorkerEvent } from '../../src/lib/worker/protocol.ts';
import { ObjectiveState } from '../../src/ui/method/objective.svelte.ts';
import { datasetPrompts } from '../../src/ui/raft/prompts.ts';
import { RaftPanelState } from '../../src/ui/raft/raft.svelte.ts';
import { AdapterLibrary, isRewardModel } from '../../src/ui/adapters/library.svelte.ts';
import type { AdapterMeta } from '../../src/lib/store/adapters.ts';
import { ScoreState } from '../../src/ui/raft/score.svelte.ts';

const round = (n: number, mean: number): RaftRound => ({
  round: n,
  mean,
  max: 1,
  samples: [{ prompt: 0, answer: ' it was', reward: 1 }],
  kept: [{ prompt: 0, answer: ' it was', reward: 1 }],
  trainLoss: 0.5,
});

/**
 * A stand-in worker: `raft` reports the rounds `rounds` lists (as raftRound events, later than the
 * request, as a worker's messages come) and finishes, or, once cancelled, ends 'stopped'.
 */
function standIn(answer: (kind: RequestKind, payload: unknown, emit: (e: WorkerEvent) => void, cancelled: Promise<void>) => Promise<unknown>) {
  const sent: { kind: RequestKind; payload: unknown }[] = [];
  const client = {
    request<K extends RequestKind>(kind: K, payload: Requests[K]['payload'], onEvent?: (e: WorkerEvent) => void): Task<Requests[K]['result']> {
      sent.push({ kind, payload: structuredClone(payload) });
      let cancel = () => {};
      const cancelled = new Promise<void>((resolve) => (cancel = resolve));
      const result = new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => answer(kind, payload, (e) => onEvent?.(e), cancelled)) as Promise<Requests[K]['result']>;
      return { id: sent.length, result, cancel };
    },
  } as unknown as EngineClient;
  return { client, sent };
}

const file = (name: string, text: string) => ({ name, text: async () => text }) as unknown as File;
const where = { file: 'd.jsonl', unit: 'line' as const, index: 0, line: 1 };

describe('the RAFT panel', () => {
  it('needs prompts and a reward it can read, each named', async () => {
    const { client } = standIn(async () => null);
    const s = new RaftPanelState(client, () => []);
    expect(s.problems.join('; ')).toMatch(/pick a prompts file/);
    await s.openPromptsFile(file('p.jsonl', '{"prompt": "A"}\nnot json\n'));
    expect(s.problems.join('; ')).toMatch(/p\.jsonl line 2: not valid JSON/);
    await s.openPromptsFile(file('p.txt', 'The jury said\nIn the morning\n'));
    s.ruleSpec = 'sounds:nice';
    expect(s.problems.join('; ')).toMatch(/the rule reward: .*sounds/);
    s.ruleSpec = 'contains: was';
    s.k = 0;
    expect(s.problems.join('; ')).toMatch(/K \(answers per prompt\) must be a whole number of at least 1/);
    s.k = 4;
    s.rewardKind = 'model';
    expect(s.problems).toEqual(['pick a saved reward model (train one with the reward objective)']);
    s.rewardKind = 'rule';
    expect(s.problems).toEqual([]);
    s.promptSource = 'dataset';
    expect(s.problems.join('; ')).toMatch(/the dataset on the page has no prompts/);
  });

  it('sends one raft request with the panel’s settings and shows the rounds the worker reports', async () => {
    const { client, sent } = standIn(async (kind, _p, emit) => {
      expect(kind).toBe('raft');
      emit({ type: 'status', id: 1, stage: 'raft', message: 'Round 0: sampling…' });
      emit({ type: 'raftRound', id: 1, round: round(0, 0.25), adapterId: 'a1' });
      emit({ type: 'raftRound', id: 1, round: round(1, 0.75), adapterId: 'a1' });
      return { status: 'finished', rounds: 2, adapterId: 'a1' };
    });
    const s = new RaftPanelState(client, () => []);
    await s.openPromptsFile(file('p.txt', 'The jury said\nIn the morning\n'));
    s.rounds = 1;
    s.keepShare = 0.5;
    s.learningRate = 0.02;
    await s.start();
    expect(sent).toHaveLength(1);
    const r = sent[0].payload as RaftRequest;
    expect(r.prompts).toEqual([{ prompt: 'The jury said' }, { prompt: 'In the morning' }]);
    expect(r.settings).toEqual({ k: RAFT_DEFAULTS.k, rounds: 1, stepsPerRound: RAFT_DEFAULTS.stepsPerRound, keep: 0.5, sampling: { ...RAFT_DEFAULTS.sampling }, seed: RAFT_DEFAULTS.seed });
    expect(r.reward).toEqual({ kind: 'rule', spec: 'contains: was' });
    expect(r.config.learning_rate).toBe(0.02);
    expect(r.config.warmup_steps).toBe(0);
    expect(r.method.peft_type).toBe('LORA');
    expect(r.resume).toBe(false);
    expect(s.phase).toBe('finished');
    expect(s.finished.map((x) => x.round)).toEqual([0, 1]);
    expect(s.meanSeries).toEqual([{ step: 0, loss: 0.25 }, { step: 1, loss: 0.75 }]);
    expect(s.maxSeries.map((p) => p.loss)).toEqual([1, 1]);
    expect(s.adapterId).toBe('a1');
    expect(s.endedRuns).toBe(1);
  });

  it('stops between rounds and continues the same run after its last finished round', async () => {
    const { client, sent } = standIn(async (_k, payload, emit, cancelled) => {
      const p = payload as RaftRequest;
      if (p.resume) {
        emit({ type: 'raftRound', id: 2, round: round(1, 1), adapterId: 'a1' });
        return { status: 'finished', rounds: 2, adapterId: 'a1' };
      }
      emit({ type: 'raftRound', id: 1, round: round(0, 0.25), adapterId: 'a1' });
      await cancelled;
      return { status: 'stopped', rounds: 1, adapterId: 'a1' };
    });
    const s = new RaftPanelState(client, () => []);
    await s.openPromptsFile(file('p.txt', 'The jury said\n'));
    s.rounds = 1;
    const running = s.start();
    await new Promise((r) => setTimeout(r, 5));
    expect(s.phase).toBe('running');
    s.stop();
    expect(s.phase).toBe('stopping');
    await running;
    expect(s.phase).toBe('stopped');
    expect(s.stage).toMatch(/Stopped after round 0/);
    await s.continue();
    expect(sent.map((x) => (x.payload as RaftRequest).resume)).toEqual([false, true]);
    expect((sent[1].payload as RaftRequest).runId).toBe((sent[0].payload as RaftRequest).runId);
    expect(s.finished.map((x) => x.mean)).toEqual([0.25, 1]);
    expect(s.phase).toBe('finished');
  });

  it('with “My ranking”, shows a waiting round’s samples, takes one pick per prompt and sends them to the waiting run', async () => {
    let ranked: (choices: number[][]) => void = () => undefined;
    const answered = new Promise<number[][]>((resolve) => (ranked = resolve));
    const question = { round: 0, groups: [{ prompt: 'A', answers: [' x', ' y'] }, { prompt: 'B', answers: [' z', ' w'] }] };
    const { client, sent } = standIn(async (kind, payload, emit) => {
      if (kind === 'raftRanking') {
        ranked((payload as { choices: number[][] }).choices);
        return { delivered: true };
      }
      emit({ type: 'raftRank', id: 1, question });
      await answered;
      emit({ type: 'raftRound', id: 1, round: round(0, 0.5), adapterId: null });
      return { status: 'finished', rounds: 1, adapterId: null };
    });
    const s = new RaftPanelState(client, () => []);
    await s.openPromptsFile(file('p.txt', 'A\nB\n'));
    s.rewardKind = 'ranking';
    s.rounds = 0;
    expect(s.problems).toEqual([]);
    const running = s.start();
    await new Promise((r) => setTimeout(r, 5));
    expect((sent[0].payload as RaftRequest).reward).toEqual({ kind: 'ranking' });
    expect(s.question).toEqual(question);
    expect(s.unpicked).toEqual([1, 2]);
    s.useRanking(); // not every prompt picked: nothing is sent
    expect(sent).toHaveLength(1);
    s.pick(0, 2);
    s.pick(1, 1);
    s.pick(1, 2); // a second click changes the pick
    s.useRanking();
    expect(s.question).toBeNull();
    expect(sent[1]).toEqual({ kind: 'raftRanking', payload: { target: 1, choices: [[2], [2]] } });
    await running;
    expect(await answered).toEqual([[2], [2]]);
    expect(s.phase).toBe('finished');
    expect(s.finished.map((r) => r.mean)).toEqual([0.5]);
  });

  it('stopping while a round waits for the ranking drops the question and ends the run stopped', async () => {
    const { client } = standIn(async (_k, _p, emit, cancelled) => {
      emit({ type: 'raftRank', id: 1, question: { round: 0, groups: [{ prompt: 'A', answers: [' x', ' y'] }] } });
      await cancelled;
      return { status: 'stopped', rounds: 0, adapterId: null };
    });
    const s = new RaftPanelState(client, () => []);
    await s.openPromptsFile(file('p.txt', 'A\n'));
    s.rewardKind = 'ranking';
    const running = s.start();
    await new Promise((r) => setTimeout(r, 5));
    expect(s.question?.groups).toHaveLength(1);
    s.stop();
    expect(s.question).toBeNull();
    await running;
    expect(s.phase).toBe('stopped');
    expect(s.stage).toMatch(/Stopped before round 0 finished/);
  });

  it('shows a failed run’s message', async () => {
    const { client } = standIn(async () => {
      throw new Error('This adapter has no score head');
    });
    const s = new RaftPanelState(client, () => []);
    await s.openPromptsFile(file('p.txt', 'Q\n'));
    await s.start();
    expect(s.phase).toBe('error');
    expect(s.error).toBe('This adapter has no score head');
  });

  it('takes the dataset’s prompts, with its answers as references', () => {
    const examples: Example[] = [
      { where, format: 'prompt-completion', prompt: 'P1', completion: ' c1' },
      { where, format: 'prompt-completion', prompt: 'P1', completion: ' again' },
      { where, format: 'alpaca', instruction: 'Do', input: 'this', output: 'done' },
      { where, format: 'preference', prompt: 'P2', chosen: ' yes', rejected: ' no' },
      { where, format: 'text', text: 'plain text has no prompt' },
    ];
    expect(datasetPrompts(examples)).toEqual([
      { prompt: 'P1', reference: ' c1' },
      { prompt: 'Do\nthis', reference: 'done' },
      { prompt: 'P2', reference: ' yes' },
    ]);
    expect(datasetPrompts(examples, 1)).toHaveLength(1);
  });

  it('knows a reward model by its score head', () => {
    expect(isRewardModel({ summary: 'LoRA r 8, α 16 · q_proj, v_proj + score head' })).toBe(true);
    expect(isRewardModel({ summary: 'LoRA r 8, α 16 · q_proj, v_proj' })).toBe(false);
  });

  it('offers reward models as rewards only, and every other adapter as a model that writes text', () => {
    const library = new AdapterLibrary();
    const meta = (id: string, summary: string) => ({ id, summary }) as AdapterMeta;
    library.list = [meta('a', 'LoRA r 8, α 16 · q_proj, v_proj'), meta('rm', 'LoRA r 8, α 16 · all-linear + score head'), meta('b', 'Prefix tuning · 8 virtual tokens')];
    expect(library.policies.map((m) => m.id)).toEqual(['a', 'b']);
    expect(library.rewardModels.map((m) => m.id)).toEqual(['rm']);
  });
});

describe('the score box', () => {
  it('rates a prompt + answer with the picked reward model', async () => {
    const { client, sent } = standIn(async () => ({ rewards: [1.25] }));
    const s = new ScoreState(client);
    expect(s.problem).toBe('pick a saved reward model');
    s.adapterId = 'rm';
    expect(s.problem).toBe('type the answer to rate');
    s.prompt = 'The jury said';
    s.answer = ' it was fair';
    await s.score();
    expect(sent[0]).toMatchObject({ kind: 'score', payload: { adapterId: 'rm', items: [{ prompt: 'The jury said', answer: ' it was fair' }] } });
    expect(s.result).toEqual({ prompt: 'The jury said', answer: ' it was fair', reward: 1.25 });
  });
});

describe('the objective picker', () => {
  it('offers the reward model, with its margin, and keeps it on preference data', () => {
    const o = new ObjectiveState();
    o.followData(true);
    o.setType('reward');
    o.reward.margin = 0.5;
    expect(o.current).toEqual({ type: 'reward', margin: 0.5 });
    o.followData(true);
    expect(o.type).toBe('reward');
    o.followData(false);
    expect(o.type).toBe('sft');
    o.followData(true);
    expect(o.type).toBe('reward');
  });
});

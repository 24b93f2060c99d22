// State of the RAFT panel: the settings of a run (prompts from a file or the dataset on the page, a
// rule or a saved reward model as the reward, K, sampling, what to keep, steps and rounds, all
// starting at rewards/raft.ts RAFT_DEFAULTS), and the run itself in the worker — the same runRaft
// loop `lora-playground raft` runs. Finished rounds arrive one by one (their mean and max reward for
// the chart, their kept samples for the table); Stop ends the run between rounds (or in a round's
// training, after its step) and Continue resumes it after its last finished round.
// With "My ranking" as the reward, each round's samples come back to the panel (a raftRank event) and
// the run waits while the user picks each prompt's best sample; "Use my ranking" sends the picks (a
// raftRanking request): the picked sample's reward is 1, the others' 0 (rewards/ranking.ts).
// After a reload, the unfinished run the worker kept in IndexedDB (store/raft-runs.ts) comes back with
// its settings and rounds, stopped: "Continue from round N" resumes it as `raft --resume` would.

import { defaultMethod, defaultTrainConfig } from '../../lib/train/config.ts';
import type { Example } from '../../lib/data/formats.ts';
import { parsePromptsFile } from '../../lib/rewards/prompts-file.ts';
import { RAFT_DEFAULTS, raftProblems, type RaftPrompt, type RaftRound, type RaftSettings } from '../../lib/rewards/raft.ts';
import { parseRewardSpec } from '../../lib/rewards/rules.ts';
import type { RankQuestion } from '../../lib/rewards/ranking.ts';
import { latestRaftRun } from '../../lib/store/raft-runs.ts';
import type { EngineClient, Task } from '../../lib/worker/client.ts';
import type { RaftRequest, RaftResult, WorkerEvent } from '../../lib/worker/protocol.ts';
import { errorMessage } from '../format.ts';
import { datasetPrompts } from './prompts.ts';

export type RaftPhase = 'idle' | 'running' | 'stopping' | 'stopped' | 'finished' | 'error';

/** One round as the chart reads it: the round number on the x axis, a reward on the y axis. */
export interface RoundPoint {
  step: number;
  loss: number;
}

export class RaftPanelState {
  // ─── settings ───
  promptSource = $state<'file' | 'dataset'>('file');
  /** The prompts file's name and text (read when picked). */
  promptsFile = $state<{ name: string; text: string } | null>(null);
  rewardKind = $state<'rule' | 'model' | 'ranking'>('rule');
  /** A rule reward in rules.ts syntax: 'contains:cat*1,len:10-40*0.5'. */
  ruleSpec = $state('contains: was');
  rewardModelId = $state<string | null>(null);
  k = $state(RAFT_DEFAULTS.k);
  rounds = $state(RAFT_DEFAULTS.rounds);
  stepsPerRound = $state(RAFT_DEFAULTS.stepsPerRound);
  keepMode = $state<'best' | 'share'>(RAFT_DEFAULTS.keep === 'best' ? 'best' : 'share');
  keepShare = $state(typeof RAFT_DEFAULTS.keep === 'number' ? RAFT_DEFAULTS.keep : 0.25);
  temperature = $state(RAFT_DEFAULTS.sampling.temperature);
  topP = $state(RAFT_DEFAULTS.sampling.topP);
  maxNewTokens = $state(RAFT_DEFAULTS.sampling.maxNewTokens);
  learningRate = $state(RAFT_DEFAULTS.learningRate);
  seed = $state(RAFT_DEFAULTS.seed);

  // ─── the run ───
  phase = $state<RaftPhase>('idle');
  /** What the loop is doing, in words. */
  stage = $state('');
  /** Finished rounds (sampling passes), in order. */
  finished = $state.raw<RaftRound[]>([]);
  /** The prompts of the current run (the table shows each kept sample's prompt). */
  runPrompts = $state.raw<RaftPrompt[]>([]);
  /** Rounds the current run trains (the chart's x axis runs from round 0 to it). */
  runRounds = $state(0);
  /** The saved adapter holding the policy after the last trained round. */
  adapterId = $state<string | null>(null);
  error = $state<string | null>(null);
  /** Counts ended runs, so the adapter list can refresh. */
  endedRuns = $state(0);
  /** The round that waits for the user's ranking (its prompts' samples), or null. */
  question = $state.raw<RankQuestion | null>(null);
  /** The user's pick per prompt of the waiting round: the best sample's number (1-based), 0 before a pick. */
  picks = $state<number[]>([]);

  private readonly client: EngineClient;
  private readonly examples: () => readonly Example[];
  private task: Task<RaftResult> | null = null;
  private runId = '';
  private request: RaftRequest | null = null;

  /** Settles once the unfinished run of an earlier page (if any) is back on the panel. */
  readonly restored: Promise<void>;

  constructor(client: EngineClient, examples: () => readonly Example[]) {
    this.client = client;
    this.examples = examples;
    this.restored = this.restore();
  }

  /** Shows the unfinished run kept in IndexedDB, stopped after its last finished round (no storage: nothing). */
  private async restore(): Promise<void> {
    const record = await latestRaftRun<RaftRequest>().catch(() => null);
    if (!record || this.phase !== 'idle') return;
    const r = record.request;
    this.request = { ...r, resume: false };
    this.runId = r.runId;
    this.promptSource = 'file';
    this.promptsFile = { name: 'the earlier run’s prompts.jsonl', text: r.prompts.map((p) => JSON.stringify(p)).join('\n') };
    this.rewardKind = r.reward.kind;
    if (r.reward.kind === 'rule') this.ruleSpec = r.reward.spec;
    if (r.reward.kind === 'model') this.rewardModelId = r.reward.adapterId;
    this.k = r.settings.k;
    this.rounds = r.settings.rounds;
    this.stepsPerRound = r.settings.stepsPerRound;
    this.keepMode = r.settings.keep === 'best' ? 'best' : 'share';
    if (r.settings.keep !== 'best') this.keepShare = r.settings.keep;
    this.temperature = r.settings.sampling.temperature;
    this.topP = r.settings.sampling.topP;
    this.maxNewTokens = r.settings.sampling.maxNewTokens;
    this.learningRate = r.config.learning_rate;
    this.seed = r.settings.seed;
    this.finished = record.rounds;
    this.runPrompts = r.prompts;
    this.runRounds = r.settings.rounds;
    this.adapterId = record.adapterId;
    this.phase = 'stopped';
    const n = record.rounds.length;
    this.stage = `An unfinished RAFT run from before the reload: ${n === 0 ? 'no round finished' : `stopped after round ${n - 1}`}. Continue from round ${n}, or start a new run.`;
  }

  /** The prompts the settings give, or why there are none. */
  readonly prompts = $derived.by((): { prompts: RaftPrompt[]; problem: string | null } => {
    if (this.promptSource === 'dataset') {
      const prompts = datasetPrompts(this.examples());
      return { prompts, problem: prompts.length ? null : 'the dataset on the page has no prompts (load prompt-completion, Alpaca or preference data, or pick a prompts file)' };
    }
    if (!this.promptsFile) return { prompts: [], problem: 'pick a prompts file (.txt, one per line, or .jsonl with "prompt")' };
    try {
      return { prompts: parsePromptsFile(this.promptsFile.text, this.promptsFile.name), problem: null };
    } catch (e) {
      return { prompts: [], problem: errorMessage(e) };
    }
  });

  readonly settings = $derived.by(
    (): RaftSettings => ({
      k: this.k,
      rounds: this.rounds,
      stepsPerRound: this.stepsPerRound,
      keep: this.keepMode === 'best' ? 'best' : this.keepShare,
      sampling: { temperature: this.temperature, topK: RAFT_DEFAULTS.sampling.topK, topP: this.topP, maxNewTokens: this.maxNewTokens },
      seed: this.seed,
    }),
  );

  /** Every reason the run cannot start, each a sentence part ([] when it can). */
  readonly problems = $derived.by((): string[] => {
    const p: string[] = [];
    if (this.prompts.problem) p.push(this.prompts.problem);
    if (this.rewardKind === 'rule') {
      try {
        parseRewardSpec(this.ruleSpec);
      } catch (e) {
        p.push(`the rule reward: ${errorMessage(e)}`);
      }
    } else if (this.rewardKind === 'model' && !this.rewardModelId) p.push('pick a saved reward model (train one with the reward objective)');
    if (!(this.learningRate > 0)) p.push('the learning rate must be above 0');
    if (!(Number.isInteger(this.maxNewTokens) && this.maxNewTokens >= 1)) p.push('answer length must be a whole number of at least 1');
    if (!this.prompts.problem) p.push(...raftProblems({ prompts: this.prompts.prompts, settings: this.settings }));
    return p;
  });

  get running(): boolean {
    return this.phase === 'running' || this.phase === 'stopping';
  }

  /** Mean and max reward per finished round, for the chart. */
  get meanSeries(): RoundPoint[] {
    return this.finished.map((r) => ({ step: r.round, loss: r.mean }));
  }

  get maxSeries(): RoundPoint[] {
    return this.finished.map((r) => ({ step: r.round, loss: r.max }));
  }

  async openPromptsFile(file: File): Promise<void> {
    this.promptsFile = { name: file.name, text: await file.text() };
    this.promptSource = 'file';
  }

  /** Starts a new run with the settings on the panel. */
  start(): Promise<void> {
    if (this.running || this.problems.length) return Promise.resolve();
    const method = defaultMethod('LORA');
    const d = defaultTrainConfig('LORA');
    this.runId = `raft-${Date.now().toString(36)}`;
    this.request = {
      runId: this.runId,
      method,
      // each round's SFT: the RAFT rate, no warm-up (a round is a few steps), the page's other defaults
      config: { ...d, learning_rate: this.learningRate, warmup_steps: 0, seed: this.seed },
      prompts: $state.snapshot(this.prompts.prompts),
      settings: $state.snapshot(this.settings) as RaftSettings,
      reward:
        this.rewardKind === 'rule' ? { kind: 'rule', spec: this.ruleSpec } : this.rewardKind === 'model' ? { kind: 'model', adapterId: this.rewardModelId! } : { kind: 'ranking' },
      adapterName: `RAFT ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
      resume: false,
    };
    this.finished = [];
    this.runPrompts = this.request.prompts;
    this.runRounds = this.request.settings.rounds;
    this.adapterId = null;
    return this.run(this.request);
  }

  /** Continues the stopped run after its last finished round. */
  continue(): Promise<void> {
    if (this.phase !== 'stopped' || !this.request) return Promise.resolve();
    return this.run({ ...this.request, resume: true });
  }

  /** Prompts of the waiting round without a pick yet (1-based). */
  get unpicked(): number[] {
    return this.picks.flatMap((p, i) => (p === 0 ? [i + 1] : []));
  }

  /** Picks sample `n` (1-based) as prompt `prompt`'s best in the waiting round. */
  pick(prompt: number, n: number): void {
    if (this.question && prompt >= 0 && prompt < this.picks.length) this.picks[prompt] = n;
  }

  /** Sends the picks of the waiting round: the run keeps the picked samples and goes on. */
  useRanking(): void {
    const q = this.question;
    if (!q || !this.task || this.unpicked.length > 0) return;
    const choices = this.picks.map((n) => [n]);
    this.question = null;
    this.picks = [];
    this.stage = `Round ${q.round}: using your ranking…`;
    void this.client.request('raftRanking', { target: this.task.id, choices }).result.catch(() => undefined);
  }

  stop(): void {
    if (this.phase !== 'running' || !this.task) return;
    this.question = null;
    this.picks = [];
    this.phase = 'stopping';
    this.stage = 'Stopping after the current step…';
    this.task.cancel();
  }

  private async run(request: RaftRequest): Promise<void> {
    this.phase = 'running';
    this.error = null;
    this.stage = 'Starting…';
    const onEvent = (e: WorkerEvent) => {
      if (e.type === 'status') this.stage = e.message;
      else if (e.type === 'train' && e.update.kind === 'start') this.stage = `Round ${this.finished.length}: training on the kept answers…`;
      else if (e.type === 'raftRank') {
        this.question = e.question;
        this.picks = e.question.groups.map(() => 0);
        this.stage = `Round ${e.question.round}: pick the best answer for each prompt, then “Use my ranking”.`;
      } else if (e.type === 'raftRound') {
        this.finished = [...this.finished, e.round];
        this.adapterId = e.adapterId;
      }
    };
    this.task = this.client.request('raft', request, onEvent);
    try {
      const result = await this.task.result;
      this.adapterId = result.adapterId;
      this.phase = result.status;
      const last = result.rounds - 1;
      if (result.status === 'finished') this.stage = `Finished: ${last} round${last === 1 ? '' : 's'} trained, ${result.rounds} sampling passes.`;
      else this.stage = last < 0 ? 'Stopped before round 0 finished: Continue samples it again.' : `Stopped after round ${last}: Continue resumes from there.`;
    } catch (e) {
      this.phase = 'error';
      this.error = errorMessage(e);
      this.stage = '';
    } finally {
      this.task = null;
      this.question = null;
      this.picks = [];
      this.endedRuns++;
    }
  }
}

// `lora-playground raft --reward ranking --json`, the real command in a subprocess on the shipped
// model, driven by a script through stdin as the README says: each {"event":"rank"} line gets one
// answer line per prompt. Tiny rounds (2 prompts, K 2, 4 tokens, 2 SFT steps, 1 round): the answers
// become the rewards (the best alone: 1 and 0; an order: (K-1-place)/(K-1)), a bad line is named and
// asked again, and stdin ending before a prompt's answer fails naming that prompt (one run does all:
// each start of the command loads the model).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run.ts';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-playground-raft-ranking-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const args = (out: string, rounds: number) => [
  'raft', '--model', 'models/brown-llama-4m', '--prompts', 'tests/fixtures/raft-prompts.txt', '--reward', 'ranking', '--k', '2', '--rounds', String(rounds),
  '--keep', 'best', '--steps-per-round', '2', '--max-new-tokens', '4', '--batch', '2', '--seq-len', '32', '--seed', '0', '--out', out, '--json',
];

interface RankEvent {
  round: number;
  k: number;
  prompts: { prompt: string; answers: string[] }[];
}
interface Round {
  round: number;
  kept: { prompt: string; answer: string; reward: number }[];
  all: { prompt: string; answer: string; reward: number }[];
}

describe('lora-playground raft --reward ranking', () => {
  it('reads each round’s ranking from stdin, asks again after a bad line, and fails naming the prompt left when stdin ends', { timeout: 300_000 }, async () => {
    // round 0: a bad line, then prompt 1's best is sample 2; prompt 2's order is 1 then 2.
    // Round 1 (the last pass): prompt 1's best is sample 1, and stdin ends before prompt 2's answer.
    const out = join(tmp, 'run');
    const run = await runCli(args(out, 1), {
      stdin: true,
      onLine: (line, child) => {
        if (!line.includes('"event":"rank"')) return;
        if ((JSON.parse(line) as RankEvent).round === 0) child.stdin!.write('7\n2\n1 2\n');
        else child.stdin!.end('1\n');
      },
    });
    expect(run.code, run.stderr + run.stdout.slice(-2000)).not.toBe(0);
    expect(run.error().message).toBe(
      "round 1: stdin ended before the ranking of prompt 2 of 2 (give one line per prompt: the best sample's number, or all 2 best first)",
    );
    const events = run.events();
    const asked = events.filter((e) => e.event === 'rank') as unknown as RankEvent[];
    expect(asked.map((q) => q.round)).toEqual([0, 1]);
    for (const q of asked) {
      expect(q.k).toBe(2);
      expect(q.prompts.map((p) => p.prompt)).toEqual(['The jury said that the', 'In the morning, the old man']);
      for (const p of q.prompts) expect(p.answers).toHaveLength(2);
    }
    const warnings = events.filter((e) => e.event === 'warning').map((e) => e.message);
    expect(warnings).toEqual(["round 0, prompt 1: 7 is not a sample number (1 to 2); give prompt 1's ranking again"]);
    const rounds = events.filter((e) => e.event === 'round') as unknown as Round[];
    expect(rounds.map((r) => r.round)).toEqual([0]);
    // the rewards are the answers' (samples in the rank event's order), the kept samples each prompt's best
    expect(rounds[0].all.map((x) => x.reward)).toEqual([0, 1, 1, 0]);
    expect(rounds[0].all.map((x) => x.answer)).toEqual(asked[0].prompts.flatMap((p) => p.answers));
    expect(rounds[0].kept.map((x) => x.answer)).toEqual([asked[0].prompts[0].answers[1], asked[0].prompts[1].answers[0]]);
    // round 0 is saved for --resume: the run that failed lost nothing the user ranked
    const saved = JSON.parse(readFileSync(join(out, 'raft.json'), 'utf8')) as { rounds: { samples: { reward: number }[] }[] };
    expect(saved.rounds.map((r) => r.samples.map((x) => x.reward))).toEqual([[0, 1, 1, 0]]);
  });
});

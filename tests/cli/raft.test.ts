// `lora-playground raft`, the real command in a subprocess, on the shipped model: a rule reward this
// test defines — the answer contains the word " was", which the base says in about one 8-token sample
// in four of these two prompts — and three RAFT rounds with the command's defaults (the top quarter of
// the samples kept, 10 SFT steps at 1e-2 per round) on K = 4 answers per prompt. The run is stopped
// (SIGINT) once round 1 is saved and continued with --resume: the resumed run starts after round 1
// with rounds 0 and 1 as they were, and finishes the rounds. Every round's mean is the rule's reward of
// its real samples (recomputed here from their text), and the last pass's mean is well above round 0's.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run.ts';

const MODEL = 'models/brown-llama-4m';
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-playground-raft-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Round {
  round: number;
  mean: number;
  max: number;
  kept: { answer: string; reward: number }[];
  all: { answer: string; reward: number }[];
}

/** The rule this test defines, computed here from the answer's text. */
const says = (answer: string) => (answer.includes(' was') ? 1 : 0);

describe('lora-playground raft', () => {
  it("raises the mean reward of 'contains: was' in three rounds, stopped after round 1 and resumed from it", { timeout: 3_600_000 }, async () => {
    const out = join(tmp, 'raft');
    const args = ['raft', '--model', MODEL, '--prompts', 'tests/fixtures/raft-prompts.txt', '--reward', 'contains: was', '--k', '4', '--rounds', '3', '--max-new-tokens', '8', '--batch', '2', '--seq-len', '32', '--seed', '0', '--out', out, '--json'];
    let stopped = false;
    const first = await runCli(args, {
      onLine: (line, child) => {
        if (!stopped && line.includes('"event":"round"') && JSON.parse(line).round === 1) {
          stopped = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(stopped, first.stderr + first.stdout.slice(-2000)).toBe(true);
    const before = first.events().filter((e) => e.event === 'round') as unknown as Round[];
    expect(before.map((r) => r.round)).toEqual([0, 1]);
    const saved = JSON.parse(readFileSync(join(out, 'raft.json'), 'utf8')) as { rounds: Round[] };
    expect(saved.rounds.map((r) => r.round)).toEqual([0, 1]);

    const second = await runCli([...args, '--resume']);
    expect(second.code, second.stderr + second.stdout.slice(-2000)).toBe(0);
    const after = second.events().filter((e) => e.event === 'round') as unknown as Round[];
    expect(after.map((r) => r.round)).toEqual([2, 3]);
    const result = second.result() as unknown as { status: string; rounds: { round: number; mean: number; max: number; kept: number }[] };
    expect(result.status).toBe('finished');
    expect(result.rounds.map((r) => r.round)).toEqual([0, 1, 2, 3]);
    // rounds 0 and 1 are the first run's, as saved
    expect(result.rounds.slice(0, 2).map((r) => r.mean)).toEqual(before.map((r) => r.mean));
    const rounds = [...before, ...after];
    for (const r of rounds) {
      expect(r.all).toHaveLength(8); // 2 prompts × K 4
      for (const x of [...r.all, ...r.kept]) expect(x.reward).toBe(says(x.answer));
      expect(r.mean).toBeCloseTo(r.all.reduce((a, x) => a + says(x.answer), 0) / r.all.length, 12);
    }
    const means = result.rounds.map((r) => r.mean);
    console.log(`RAFT 'contains: was' mean reward per round: ${means.map((m) => m.toFixed(3)).join(' → ')}; max ${result.rounds.map((r) => r.max).join(', ')}`);
    expect(means[0]).toBeLessThanOrEqual(0.25); // the base says it rarely
    expect(means[3]).toBeGreaterThanOrEqual(means[0] + 0.5); // three rounds teach it to the adapter
  });
});

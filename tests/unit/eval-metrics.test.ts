// The evaluation numbers (src/lib/eval/metrics.ts) against tests/python/eval_metrics.py, a separate
// plain-Python implementation written from the metrics' definitions (rouge_score's LCS, sacreBLEU's
// chrF, cross-entropy and argmax over counted positions), on fixed texts and seeded logits.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chrF, exactMatch, exampleScores, rougeL, scoreTokens, totals } from '../../src/lib/eval/metrics.ts';
import { createRng } from '../../src/lib/random.ts';

const texts = [
  { prediction: ' Arr, the sun be a great hot star, matey!', reference: ' Arr, the sun be a great hot star that lights the whole sky, matey!' },
  { prediction: 'The sun is a star.', reference: '  The sun is   a star.\n' },
  { prediction: 'the sun is a star', reference: 'The sun is a star.' },
  { prediction: '', reference: 'something' },
  { prediction: 'x', reference: '' },
  { prediction: 'a b c d e', reference: 'e d c b a' },
  { prediction: 'Ärger über Öl — naïve café', reference: 'Ärger über Öl, naive cafe' },
  { prediction: 'aaaa aaaa', reference: 'aa' },
  { prediction: 'The relationship between Obama and Netanyahu is not exactly friendly.', reference: 'The ties between Obama and Netanyahu are not particularly friendly.' },
];

/** T positions of V seeded logits (some rows with a tied maximum) and targets with −100 holes. */
function sequence(seed: number, T: number, V: number): { V: number; logits: Float32Array; targets: Int32Array } {
  const rng = createRng(seed);
  const logits = Float32Array.from({ length: T * V }, () => (rng() - 0.5) * 8);
  const targets = Int32Array.from({ length: T }, () => (rng() < 0.25 ? -100 : Math.floor(rng() * V)));
  // A tie for the maximum: the lower id wins (torch.argmax).
  logits[2 * V + 1] = 10;
  logits[2 * V + 3] = 10;
  targets[2] = 3;
  // A target that is the argmax.
  logits[4 * V + V - 1] = 20;
  targets[4] = V - 1;
  return { V, logits, targets };
}
const sequences = [sequence(1, 12, 7), sequence(2, 9, 16), sequence(3, 6, 5)];

function reference(): { texts: { exact_match: number; rouge_l: number; chrf: number }[]; sequences: { loss_sum: number; tokens: number; correct: number }[] } {
  const input = JSON.stringify({
    texts,
    sequences: sequences.map((s) => ({ V: s.V, logits: Array.from(s.logits), targets: Array.from(s.targets) })),
  });
  return JSON.parse(execFileSync('python3', [join(__dirname, '../python/eval_metrics.py')], { input, encoding: 'utf8' }));
}

describe('evaluation metrics', () => {
  const ref = reference();

  it('exact match, ROUGE-L and chrF equal the Python reference on every text pair', () => {
    texts.forEach((t, i) => {
      expect(exactMatch(t.prediction, t.reference), `exact match ${i}`).toBe(ref.texts[i].exact_match);
      expect(rougeL(t.prediction, t.reference), `ROUGE-L ${i}`).toBeCloseTo(ref.texts[i].rouge_l, 12);
      expect(chrF(t.prediction, t.reference), `chrF ${i}`).toBeCloseTo(ref.texts[i].chrf, 10);
    });
    // The pairs were chosen to exercise each outcome, not only zeros.
    expect(ref.texts.map((r) => r.exact_match)).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(ref.texts[0].rouge_l).toBeGreaterThan(0.5);
    expect(ref.texts[2].rouge_l).toBe(1);
  });

  it("chrF gives sacreBLEU's documented score for the metric card's sentence pair", () => {
    // datasets/metrics/chrf/README.md: CHRF() of this pair is 61.576379378113785.
    expect(chrF(texts[8].prediction, texts[8].reference)).toBeCloseTo(61.576379378113785, 9);
  });

  it('ROUGE-L of a reversed sentence is one word of five each way', () => {
    // LCS of "a b c d e" and "e d c b a" is 1 word: P = R = 1/5.
    expect(rougeL('a b c d e', 'e d c b a')).toBeCloseTo(0.2, 12);
  });

  it('loss, counted tokens and greedy-correct tokens equal the Python reference on seeded logits', () => {
    sequences.forEach((s, i) => {
      const got = scoreTokens(s.logits, s.V, s.targets);
      expect(got.tokens).toBe(ref.sequences[i].tokens);
      expect(got.correct).toBe(ref.sequences[i].correct);
      expect(got.lossSum).toBeCloseTo(ref.sequences[i].loss_sum, 9);
    });
    expect(ref.sequences.every((r) => r.correct >= 1 && r.correct < r.tokens)).toBe(true);
  });

  it('totals weight loss and token accuracy by tokens and average the text scores over the examples that have them', () => {
    const rows = sequences.map((s, i) => exampleScores(scoreTokens(s.logits, s.V, s.targets), i < 2 ? texts[i] : null));
    const t = totals(rows);
    const lossSum = ref.sequences.reduce((a, r) => a + r.loss_sum, 0);
    const tokens = ref.sequences.reduce((a, r) => a + r.tokens, 0);
    const correct = ref.sequences.reduce((a, r) => a + r.correct, 0);
    expect(t.examples).toBe(3);
    expect(t.tokens).toBe(tokens);
    expect(t.loss).toBeCloseTo(lossSum / tokens, 9);
    expect(t.perplexity).toBeCloseTo(Math.exp(lossSum / tokens), 6);
    expect(t.tokenAccuracy).toBeCloseTo(correct / tokens, 12);
    expect(t.scored).toBe(2);
    expect(t.exactMatch).toBeCloseTo((ref.texts[0].exact_match + ref.texts[1].exact_match) / 2, 12);
    expect(t.rougeL).toBeCloseTo((ref.texts[0].rouge_l + ref.texts[1].rouge_l) / 2, 12);
    expect(t.chrF).toBeCloseTo((ref.texts[0].chrf + ref.texts[1].chrf) / 2, 10);
    expect(rows[2].exactMatch).toBeNull();
  });
});

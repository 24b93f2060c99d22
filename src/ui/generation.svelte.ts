// One generation as the page shows it while it streams: the text so far, how many tokens, the live
// decoding speed, and the runtime's result once it has finished. The Generate panel keeps one; the
// Compare panel one per side. GenerationOutput.svelte draws it.

import type { GenerationResult, StreamedToken } from '../lib/generate/stream.ts';

export class GenerationStream {
  text = $state('');
  /** Tokens received so far (the result's count once finished). */
  tokens = $state(0);
  /** Live decoding speed while streaming: tokens after the first, per second since the first. */
  liveTokensPerSecond = $state(0);
  result = $state.raw<GenerationResult | null>(null);

  private firstTokenAt = 0;

  /** Empties it for a new generation. */
  reset(): void {
    this.text = '';
    this.tokens = 0;
    this.liveTokensPerSecond = 0;
    this.result = null;
  }

  /** One streamed token arrived at `now` (ms). */
  push(token: StreamedToken, now = performance.now()): void {
    if (this.tokens === 0) this.firstTokenAt = now;
    this.text += token.text;
    this.tokens++;
    if (this.tokens > 1 && now > this.firstTokenAt) this.liveTokensPerSecond = ((this.tokens - 1) * 1000) / (now - this.firstTokenAt);
  }

  /** The runtime's result: its text and counts replace what was streamed. */
  finish(result: GenerationResult): void {
    this.result = result;
    this.text = result.text;
    this.tokens = result.tokenIds.length;
  }
}
